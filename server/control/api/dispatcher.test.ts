/**
 * issue 16: whatever a route does wrong, the request still ends in a response and the server
 * keeps serving. A real HTTP server on 127.0.0.1:0 runs the real dispatcher with routes that
 * fail in each way a handler can.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AuthService } from '../auth/auth-service.ts';
import { rawExchange, rawRequest } from '../test/raw-http.ts';
import { createRequestHandler } from './dispatcher.ts';
import { ok, publicRoute } from './route.ts';

let server: Server;
let port: number;
const seen: { query?: unknown; params?: unknown; body?: unknown } = {};

beforeAll(async () => {
  const routes = [
    publicRoute({ method: 'GET', path: '/throws', handler: () => Promise.reject(new TypeError('a bug')) }),
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the test is about a handler that rejects with a non-Error
    publicRoute({ method: 'GET', path: '/rejects-with-a-string', handler: () => Promise.reject('not even an Error') }),
    publicRoute({
      method: 'GET',
      path: '/throws-synchronously',
      handler: () => {
        throw new Error('sync');
      },
    }),
    publicRoute({
      method: 'GET',
      path: '/stream-fails',
      handler: () => Promise.resolve({ status: 200, body: undefined, stream: () => Promise.reject(new Error('stream broke before writing')) }),
    }),
    publicRoute({ method: 'GET', path: '/bad-reply', handler: () => Promise.resolve({ status: 200, body: { big: 1n } }) }),
    publicRoute({
      method: 'POST',
      path: '/echo/:id',
      body: z.object({ name: z.string() }),
      query: z.object({ q: z.string().optional() }),
      handler: ({ params, query, body }) => {
        Object.assign(seen, { params, query, body });
        return Promise.resolve(ok({ ok: true }));
      },
    }),
    publicRoute({ method: 'GET', path: '/ok', handler: () => Promise.resolve(ok({ ok: true })) }),
  ];
  const handle = createRequestHandler({ routes, auth: {} as AuthService });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function get(path: string) {
  const outcome = await rawExchange(port, rawRequest('GET', path));
  if (outcome.kind !== 'answered') throw new Error(`no answer for ${path}: ${outcome.kind}`);
  return { status: outcome.status, body: outcome.body ? (JSON.parse(outcome.body) as { error?: { code: string; message: string } }) : undefined };
}

describe('issue 16: a failing handler is answered 500, never fatal', () => {
  it('answers 500 INTERNAL (no detail) for a thrown error, a rejected non-Error, a synchronous throw and an unserializable reply', async () => {
    for (const path of ['/throws', '/rejects-with-a-string', '/throws-synchronously', '/bad-reply']) {
      expect(await get(path), path).toEqual({ status: 500, body: { error: { code: 'GATEHOUSE_ERR_INTERNAL', message: 'internal error' } } });
    }
    expect((await get('/ok')).status).toBe(200);
  });

  it('answers 500 for a streamed response that fails before writing, and keeps serving', async () => {
    expect(await get('/stream-fails')).toEqual({ status: 500, body: { error: { code: 'GATEHOUSE_ERR_INTERNAL', message: 'internal error' } } });
    expect((await get('/ok')).status).toBe(200);
  });
});

describe('issue 10 item 10 / issue 16: the edge decodes path, query and body text once, strictly', () => {
  it('hands routes decoded UTF-8 text', async () => {
    const outcome = await rawExchange(
      port,
      rawRequest('POST', '/echo/caf%C3%A9?q=a+b%26c', { 'Content-Type': 'application/json' }, JSON.stringify({ name: 'zoë' })),
    );
    expect(outcome.kind === 'answered' && outcome.status).toBe(200);
    expect(seen).toEqual({ params: { id: 'café' }, query: { q: 'a b&c' }, body: { name: 'zoë' } });
  });

  it('refuses NUL, broken escapes, non-UTF-8 and unpaired surrogates with 400 INVALID_INPUT naming where', async () => {
    const cases: [string, Buffer, string | undefined][] = [
      ['/echo/%00', Buffer.from('{"name":"x"}'), 'path'],
      ['/echo/%C3', Buffer.from('{"name":"x"}'), 'path'],
      ['/echo/%G1', Buffer.from('{"name":"x"}'), 'path'],
      ['/echo/a?q=%00', Buffer.from('{"name":"x"}'), 'q'],
      ['/echo/a?q=%FF', Buffer.from('{"name":"x"}'), 'q'],
      ['/echo/a', Buffer.from('{"name":"a\\u0000"}'), 'name'],
      ['/echo/a', Buffer.from('{"name":"\\ud800"}'), 'name'],
      ['/echo/a', Buffer.from('{"x\\u0000":1,"name":"ok"}'), undefined],
      ['/echo/a', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'body'],
    ];
    for (const [path, body, field] of cases) {
      const outcome = await rawExchange(port, rawRequest('POST', path, { 'Content-Type': 'application/json' }, body));
      if (outcome.kind !== 'answered') throw new Error(`no answer for ${path}`);
      const parsed = JSON.parse(outcome.body) as { error: { code: string; field?: string } };
      expect({ path, status: outcome.status, code: parsed.error.code, field: parsed.error.field }).toEqual({
        path,
        status: 400,
        code: 'GATEHOUSE_ERR_INVALID_INPUT',
        field,
      });
    }
  });

  it('does not overflow the stack on deeply nested JSON', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const outcome = await rawExchange(port, rawRequest('POST', '/echo/a', { 'Content-Type': 'application/json' }, deep));
    expect(outcome.kind === 'answered' && outcome.status).toBe(400);
  });
});
