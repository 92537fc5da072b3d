import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayStreamMeta } from '../../../proxy-core/src/tunnel/meta.ts';
import type { SessionEvent } from '../../../proxy-core/src/recorder/events.ts';

import type { SessionEndReason } from '../../../proxy-core/src/tunnel/session-end.ts';

export type { GatewayStreamMeta, SessionEndReason, SessionEvent };

/** What the relay needs from the rest of the control plane (docs/architecture.md, "relay seam"). */
export interface RelayDeps {
  /** Verify the signed headers; throws GatehouseError(UNAUTHENTICATED). */
  authenticateGateway(headers: IncomingHttpHeaders): Promise<{ gatewayId: string }>;
  /** Check bearer token + session ownership + session active; returns what the gateway needs. */
  authorizeTunnel(
    sessionId: string,
    authorization: string | undefined,
  ): Promise<{
    gatewayId: string;
    expiresAt: string;
    meta: Omit<GatewayStreamMeta, 'kind' | 'connectionId' | 'clientAddress' | 'applicationName'>;
  }>;
  /** Store events idempotently by (gatewayId, seq); resolves once durable. */
  storeEvents(gatewayId: string, events: SessionEvent[]): Promise<void>;
  setGatewayConnected(gatewayId: string, connected: boolean): Promise<void>;
  /** A link was accepted (audited as `gateway.linked`, or `gateway.link_replaced` when it replaced a live one). */
  gatewayLinked?(gatewayId: string, info: { replaced: boolean; remoteAddress: string | undefined }): Promise<void>;
}

/** The control plane replicas this relay belongs to (server/control/cluster). */
export interface RelayCluster {
  replicaId: string;
  /** Live replicas, this one included; empty until this replica has joined. */
  replicas(): Array<{ id: string; url: string }>;
}

export interface RelayOptions {
  /** Tell each gateway which replica it reached and every live one, so it links to each. */
  cluster?: RelayCluster;
  /** Largest WebSocket message accepted on a gateway link (event batches). Default 32 MiB. */
  maxGatewayPayload?: number;
  /** Largest WebSocket message accepted on a client tunnel. Default: the largest frame. */
  maxTunnelPayload?: number;
  /** Ping interval; a socket that misses one pong is terminated. Default 20 s. */
  heartbeatMs?: number;
  /** After `endSession`, how long tunnels stay open for the gateway's goodbye. Default 250 ms. */
  endGraceMs?: number;
  /** How long a direct stream waits for its gateway to dial back. Default 5 s. */
  dialTimeoutMs?: number;
}

/** WebSocket close codes used by the relay. */
export const CloseCodes = {
  SESSION_ENDED: 4000,
  GATEWAY_REPLACED: 4001,
  PROTOCOL: 4002,
  SHUTDOWN: 1001,
} as const;
