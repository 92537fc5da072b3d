import { timingSafeEqual } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { ok, publicRoute, type AnyRoute, type RequestInfo } from '../route.ts';
import type { Services } from '../services.ts';

/**
 * `/healthz` for anyone. `/metrics` only with `--metrics-token` set, and then only to
 * `Authorization: Bearer <token>` (it names routes, counts sessions and gateways).
 */
export function systemRoutes(s: Services, options: { metricsToken?: string } = {}): AnyRoute[] {
  const health = () => Promise.resolve(ok({ ok: true }));
  const metrics = async ({ req }: RequestInfo) => {
    if (options.metricsToken === undefined)
      throw new GatehouseError(ErrorCodes.NOT_FOUND, 'metrics are off; start the server with --metrics-token (GATEHOUSE_METRICS_TOKEN) to serve them');
    if (!bearerMatches(req.headers.authorization, options.metricsToken))
      throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'send the metrics token as Authorization: Bearer <token>');
    return { status: 200, body: await s.metrics.render(), contentType: s.metrics.registry.contentType };
  };
  return [
    publicRoute({ method: 'GET', path: '/healthz', handler: health }),
    publicRoute({ method: 'GET', path: '/api/v1/healthz', handler: health }),
    publicRoute({ method: 'GET', path: '/metrics', handler: metrics }),
    publicRoute({ method: 'GET', path: '/api/v1/metrics', handler: metrics }),
  ];
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '', 'utf8');
  const expected = Buffer.from(`Bearer ${token}`, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
