/**
 * The gateway's optional health listener (`--health-port`): `GET /healthz` answers 200 while
 * a link to the control plane is up and 503 while it is redialing, with the state of every
 * link as JSON; `GET /metrics` is Prometheus text. Loopback by default: it is for the
 * supervisor and the metrics scraper on the gateway's host, and says nothing secret.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { Gateway } from './gateway.ts';

const log = createLogger('gateway.health');

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** The JSON `/healthz` returns. */
export function healthReport(gateway: Gateway) {
  const links = gateway.links.map((l) => ({
    url: l.url,
    role: l.role,
    ...(l.replicaId !== undefined && { replicaId: l.replicaId }),
    state: l.state.state,
    ...(l.state.state === 'waiting' && { attempt: l.state.attempt, retryAt: l.state.retryAt.toISOString(), lastError: l.state.lastError }),
    ...(l.state.state === 'connected' && { since: l.state.since.toISOString() }),
    attempts: l.counters.attempts,
    connects: l.counters.connects,
  }));
  return {
    status: gateway.connected ? 'ok' : 'reconnecting',
    gatewayId: gateway.gatewayId ?? null,
    linked: gateway.connected,
    links,
    replicas: gateway.replicas,
    connections: gateway.connectionCount,
    events: gateway.eventLog?.stats ?? null,
  };
}

function metricsRegistry(gateway: Gateway): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_gateway_' });
  const gauge = (name: string, help: string, value: () => number, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  gauge('gatehouse_gateway_linked', '1 while at least one link to the control plane is up', () => (gateway.connected ? 1 : 0));
  gauge('gatehouse_gateway_links_up', 'Links to control plane replicas that are up', () => gateway.links.filter((l) => l.state.state === 'connected').length);
  gauge('gatehouse_gateway_link_attempts_total', 'Dial attempts to the control plane since start', () =>
    gateway.links.reduce((n, l) => n + l.counters.attempts, 0),
  );
  gauge('gatehouse_gateway_link_losses_total', 'Links to the control plane lost since start', () =>
    gateway.links.reduce((n, l) => n + l.counters.disconnects, 0),
  );
  gauge('gatehouse_gateway_connections', 'Open PostgreSQL connections served', () => gateway.connectionCount);
  gauge('gatehouse_gateway_events_unacked', 'Recorded session events not yet stored by the control plane', () => gateway.eventLog?.stats.unacked ?? 0);
  gauge('gatehouse_gateway_events_last_seq', 'Sequence number of the last recorded session event', () => gateway.eventLog?.stats.lastSeq ?? 0);
  return registry;
}

export async function startHealthServer(gateway: Gateway, port: number, host = '127.0.0.1'): Promise<HealthServer> {
  const registry = metricsRegistry(gateway);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      const report = healthReport(gateway);
      res.writeHead(report.linked ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      return;
    }
    if (path === '/metrics') {
      void registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => {
          log.warn({ err }, 'metrics failed');
          res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ host, port: bound }, `gateway health on http://${host}:${bound}/healthz`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
