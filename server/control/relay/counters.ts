/** Metrics-friendly counters of one relay (read by the control plane's /metrics). */
export interface RelayStats {
  gatewayLinks: number;
  tunnels: number;
  /** Direct streams (direct-streams.ts) open now; also counted in streamsOpen. */
  directStreams: number;
  streamsOpen: number;
  streamsTotal: number;
  streamsRefused: number;
  bytesClientToGateway: number;
  bytesGatewayToClient: number;
  eventsStored: number;
}

export function emptyStats(): RelayStats {
  return {
    gatewayLinks: 0,
    tunnels: 0,
    directStreams: 0,
    streamsOpen: 0,
    streamsTotal: 0,
    streamsRefused: 0,
    bytesClientToGateway: 0,
    bytesGatewayToClient: 0,
    eventsStored: 0,
  };
}
