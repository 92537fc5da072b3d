/**
 * The HTTP request handler: finds the route, authenticates, reads and validates input,
 * runs the handler and writes JSON. Every failure becomes `{ error: { code, message } }`; every
 * request ends in a response, whatever is thrown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Router, { type HTTPMethod } from 'find-my-way';
import type { z } from 'zod';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { sourceAddressOf } from '../audit/source-address.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { readJsonBody } from './body.ts';
import { errorResponse, InvalidInputError } from './errors.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';
import type { AnyRoute, Reply } from './route.ts';

const log = createLogger('control-api');

export interface RequestObserver {
  /** Called once per request with the matched route pattern (or 'unmatched'). */
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function createRequestHandler(options: { routes: AnyRoute[]; auth: AuthService; observer?: RequestObserver; trustProxyHops?: number }) {
  const router = Router({ ignoreTrailingSlash: true });
  const noop = () => undefined;
  for (const r of options.routes) router.on(r.method, r.path, noop, r);

  const respond = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let path = 'unparsed';
    let spec: AnyRoute | undefined;
    let reply: Reply;
    try {
      const target = parseRequestTarget(req.url);
      path = target.pathname;
      const found = router.find((req.method ?? 'GET') as HTTPMethod, target.pathname);
      spec = found?.store as AnyRoute | undefined;
      if (!found || !spec) throw new GatehouseError(ErrorCodes.NOT_FOUND, `no route for ${req.method} ${target.pathname}`);
      reply = await run(spec, req, target, found.params, options.auth, options.trustProxyHops ?? 0);
    } catch (err) {
      if (!(err instanceof GatehouseError)) log.error({ err, path }, 'request failed');
      reply = errorResponse(err);
    }
    if (reply.stream) {
      await reply.stream(res).catch((err: unknown) => {
        log.warn({ err, path }, 'stream failed');
        if (res.headersSent)
          res.destroy(); // the client sees the body cut short
        else send(req, res, errorResponse(err));
      });
    } else {
      send(req, res, reply);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    options.observer?.observe(req.method ?? 'GET', spec?.path ?? 'unmatched', reply.status, seconds);
  };

  /** Never rejects: whatever escapes `respond` is logged and answered 500 (or the socket closed when the answer had begun). */
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await respond(req, res);
    } catch (err) {
      log.error({ err }, 'request handling failed');
      try {
        if (res.headersSent) res.destroy();
        else send(req, res, errorResponse(err));
      } catch {
        res.destroy();
      }
    }
  };
}

async function run(
  spec: AnyRoute,
  req: IncomingMessage,
  target: RequestTarget,
  rawParams: Record<string, string | undefined>,
  auth: AuthService,
  trustProxyHops: number,
): Promise<Reply> {
  const user = spec.auth ? await auth.authenticate(req.headers.authorization) : undefined;
  const params = Object.fromEntries(Object.entries(rawParams).map(([k, v]) => [k, v ?? '']));
  const rawBody = await readJsonBody(req);
  const body = spec.body ? validate(spec.body, rawBody ?? {}, 'body') : undefined;
  const query = spec.query ? validate(spec.query, target.query, 'query') : undefined;
  const sourceAddress = sourceAddressOf(req, trustProxyHops);
  return spec.handle({ req, params, body, query, sourceAddress, user: user as NonNullable<typeof user> });
}

function validate(schema: z.ZodType, value: unknown, where: 'body' | 'query'): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.map(String).join('.');
  throw new InvalidInputError(field ? `${where}.${field}: ${issue.message}` : `${where}: ${issue.message}`, field || undefined);
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const payload = reply.contentType ? String(reply.body) : JSON.stringify(reply.body);
  res.statusCode = reply.status;
  res.setHeader('content-type', reply.contentType ?? 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.setHeader('cache-control', 'no-store');
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  // A body we did not read (too large, wrong type) must not be parsed as the next request.
  if (!req.complete) res.setHeader('connection', 'close');
  res.end(payload);
}
