/** Prometheus metrics for `/metrics`, one registry per control plane. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestObserver } from './api/dispatcher.ts';
import type { RelayStats } from './relay/counters.ts';

export interface Metrics {
  registry: Registry;
  observer: RequestObserver;
  credentials: CredentialMetrics;
  render(): Promise<string>;
}

/** Credential rotation and health (server/control/credentials). */
export interface CredentialMetrics {
  rotation(result: 'ok' | 'failed', code: string): void;
  healthCheck(status: 'ok' | 'broken' | 'unreachable'): void;
}

export interface MetricSources {
  sessionsActive(): Promise<number>;
  gatewaysConnected(): number;
  credentialsBroken?: () => Promise<number>;
  /** The relay's counters (relay/counters.ts). */
  relay?: () => RelayStats;
}

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'gatehouse_sessions_active',
    help: 'Sessions that are active and not past their expiry',
    registers: [registry],
    async collect() {
      this.set(await sources.sessionsActive());
    },
  });
  new Gauge({
    name: 'gatehouse_gateways_connected',
    help: 'Gateways with a live link to this control plane',
    registers: [registry],
    collect() {
      this.set(sources.gatewaysConnected());
    },
  });
  const relay = sources.relay;
  if (relay) {
    const gauges: Array<[keyof RelayStats, string, string]> = [
      ['tunnels', 'gatehouse_relay_tunnels', 'Client tunnels open on this replica'],
      ['streamsOpen', 'gatehouse_relay_streams_open', 'Client connections relayed now (tunnel streams and direct streams)'],
      ['directStreams', 'gatehouse_relay_direct_streams_open', 'Client connections relayed now on direct streams (a socket each)'],
      ['streamsTotal', 'gatehouse_relay_streams_total', 'Client connections relayed since start'],
      ['streamsRefused', 'gatehouse_relay_streams_refused_total', 'Client connections refused by the relay or the gateway since start'],
      ['bytesClientToGateway', 'gatehouse_relay_client_to_gateway_bytes_total', 'Bytes relayed from clients to gateways since start'],
      ['bytesGatewayToClient', 'gatehouse_relay_gateway_to_client_bytes_total', 'Bytes relayed from gateways to clients since start'],
    ];
    for (const [key, name, help] of gauges) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(relay()[key]);
        },
      });
    }
  }
  const rotations = new Counter({
    name: 'gatehouse_credential_rotations_total',
    help: 'Account password rotations by result and failure code',
    labelNames: ['result', 'code'],
    registers: [registry],
  });
  const healthChecks = new Counter({
    name: 'gatehouse_credential_health_checks_total',
    help: 'Credential health checks by outcome',
    labelNames: ['status'],
    registers: [registry],
  });
  const brokenSource = sources.credentialsBroken;
  if (brokenSource) {
    new Gauge({
      name: 'gatehouse_credentials_broken',
      help: 'Accounts whose stored password the database refused at the last health check',
      registers: [registry],
      async collect() {
        this.set(await brokenSource());
      },
    });
  }
  return {
    registry,
    credentials: {
      rotation: (result, code) => rotations.inc({ result, code }),
      healthCheck: (status) => healthChecks.inc({ status }),
    },
    observer: {
      observe(method, route, status, seconds) {
        requests.inc({ method, route, status: String(status) });
        latency.observe({ method, route }, seconds);
      },
    },
    render: () => registry.metrics(),
  };
}
