import { ok, publicRoute, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

export function systemRoutes(s: Services): AnyRoute[] {
  const health = async () => ok({ ok: true });
  const metrics = async () => ({ status: 200, body: await s.metrics.render(), contentType: s.metrics.registry.contentType });
  return [
    publicRoute({ method: 'GET', path: '/healthz', handler: health }),
    publicRoute({ method: 'GET', path: '/api/v1/healthz', handler: health }),
    publicRoute({ method: 'GET', path: '/metrics', handler: metrics }),
    publicRoute({ method: 'GET', path: '/api/v1/metrics', handler: metrics }),
  ];
}
