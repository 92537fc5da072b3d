/** Prometheus metrics for `/metrics`, one registry per control plane. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestObserver } from './api/dispatcher.ts';

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

export function createMetrics(sources: { sessionsActive(): Promise<number>; gatewaysConnected(): number; credentialsBroken?: () => Promise<number> }): Metrics {
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
