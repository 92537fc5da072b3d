/**
 * The ApiClient against a real HTTP + WebSocket server on 127.0.0.1 that answers like the
 * control plane's routes (the full control plane is exercised in main/core/access e2e).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { freePort } from '../../../test/fixtures/postgres.ts';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { rawDataToBuffer } from '../../../proxy-core/src/tunnel/raw-data.ts';
import { ApiClient, isSignInRequired, MemoryTokenProvider } from './index.ts';

interface Fake {
  domain: string;
  server: Server;
  wss: WebSocketServer;
  /** The access token the server currently accepts. */
  validAccess: string;
  validRefresh: string;
  refreshCalls: number;
  tunnelHeaders?: IncomingMessage['headers'];
}

let fake: Fake;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function authorized(req: IncomingMessage, res: ServerResponse): boolean {
  const header = req.headers.authorization;
  if (header === `Bearer ${fake.validAccess}`) return true;
  if (header?.startsWith('Bearer ')) {
    json(res, 401, { error: { code: 'GATEHOUSE_ERR_TOKEN_EXPIRED', message: 'access token expired' } });
  } else {
    json(res, 401, { error: { code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: 'sign in required' } });
  }
  return false;
}

beforeEach(async () => {
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = req.method === 'POST' ? await readBody(req) : {};
    if (url.pathname === '/api/v1/auth/login') {
      if (body.password !== 'right') return json(res, 401, { error: { code: 'GATEHOUSE_ERR_INVALID_CREDENTIALS', message: 'wrong email or password' } });
      return json(res, 200, {
        accessToken: fake.validAccess,
        refreshToken: fake.validRefresh,
        expiresAt: new Date().toISOString(),
        user: { id: 'u1', email: body.email, name: 'Ann', isAdmin: false },
      });
    }
    if (url.pathname === '/api/v1/auth/refresh') {
      fake.refreshCalls++;
      if (body.refreshToken !== fake.validRefresh)
        return json(res, 401, { error: { code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: 'refresh token invalid' } });
      fake.validAccess = `access-${fake.refreshCalls + 1}`;
      fake.validRefresh = `refresh-${fake.refreshCalls + 1}`;
      return json(res, 200, {
        accessToken: fake.validAccess,
        refreshToken: fake.validRefresh,
        expiresAt: new Date().toISOString(),
        user: { id: 'u1', email: 'a@x', name: 'Ann', isAdmin: false },
      });
    }
    if (url.pathname === '/api/v1/me') {
      if (!authorized(req, res)) return;
      return json(res, 200, { user: { id: 'u1', email: 'a@x', name: 'Ann', isAdmin: false }, projects: [] });
    }
    if (url.pathname === '/api/v1/sessions') {
      if (!authorized(req, res)) return;
      return json(res, 200, { sessions: [], query: Object.fromEntries(url.searchParams) });
    }
    if (url.pathname === '/api/v1/sessions/missing') {
      if (!authorized(req, res)) return;
      return json(res, 404, { error: { code: 'GATEHOUSE_ERR_NOT_FOUND', message: 'no such session' } });
    }
    json(res, 404, { error: { code: 'GATEHOUSE_ERR_NOT_FOUND', message: 'no route' } });
  };
  const server = createServer((req, res) => void serve(req, res));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    fake.tunnelHeaders = req.headers;
    if (req.headers.authorization !== `Bearer ${fake.validAccess}`) {
      const body = JSON.stringify({ error: { code: 'GATEHOUSE_ERR_TOKEN_EXPIRED', message: 'access token expired' } });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.send('hello'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  fake = { domain: `http://127.0.0.1:${port}`, server, wss, validAccess: 'access-1', validRefresh: 'refresh-1', refreshCalls: 0 };
});

afterEach(async () => {
  fake.wss.clients.forEach((c) => c.terminate());
  fake.server.closeAllConnections();
  await new Promise((r) => fake.server.close(r));
});

describe('ApiClient', () => {
  it('signs in, keeps the tokens and uses them', async () => {
    const tokens = new MemoryTokenProvider();
    const api = new ApiClient({ domain: `${fake.domain}/some/path/`, tokens });
    expect(api.domain).toBe(fake.domain);
    const result = await api.login('a@x', 'right');
    expect('user' in result && result.user.name).toBe('Ann');
    expect((await tokens.get())?.refreshToken).toBe('refresh-1');
    expect((await api.me()).user.email).toBe('a@x');
    await api.close();
  });

  it('maps a JSON error to a GatehouseError with the server code', async () => {
    const api = new ApiClient({ domain: fake.domain, tokens: new MemoryTokenProvider() });
    await expect(api.login('a@x', 'wrong')).rejects.toMatchObject({ code: ErrorCodes.INVALID_CREDENTIALS, message: 'wrong email or password', status: 401 });
    await api.login('a@x', 'right');
    await expect(api.getSession('missing')).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND, message: 'no such session' });
    await api.close();
  });

  it('refreshes an expired access token once, transparently', async () => {
    const tokens = new MemoryTokenProvider({ accessToken: 'stale', refreshToken: 'refresh-1', expiresAt: '' });
    const api = new ApiClient({ domain: fake.domain, tokens });
    const [a, b] = await Promise.all([api.me(), api.listSessions({ status: 'active' })]);
    expect(a.user.id).toBe('u1');
    expect(b).toEqual([]);
    expect(fake.refreshCalls).toBe(1); // concurrent 401s share one refresh
    expect(await tokens.get()).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });
    await api.close();
  });

  it('when the refresh token is refused too, the caller is told to sign in and the tokens are forgotten', async () => {
    const tokens = new MemoryTokenProvider({ accessToken: 'stale', refreshToken: 'revoked', expiresAt: '' });
    const api = new ApiClient({ domain: fake.domain, tokens });
    const err = await api.me().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.UNAUTHENTICATED });
    expect(isSignInRequired(err)).toBe(true);
    expect(fake.refreshCalls).toBe(1);
    expect(await tokens.get()).toBeUndefined();
    await expect(api.me()).rejects.toMatchObject({ code: ErrorCodes.NOT_SIGNED_IN });
    await api.close();
  });

  it('says the server is unreachable, naming the domain, when nothing listens', async () => {
    const port = await freePort();
    const api = new ApiClient({ domain: `http://127.0.0.1:${port}`, tokens: new MemoryTokenProvider() });
    const err = await api.login('a@x', 'right').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.SERVER_UNREACHABLE });
    expect((err as Error).message).toContain(`http://127.0.0.1:${port} is unreachable`);
    await api.close();
  });

  it('a non-JSON error page becomes a coded error that names the status', async () => {
    const { errorFromResponse } = await import('./api-errors.ts');
    expect(errorFromResponse(fake.domain, 502, '<html>bad gateway</html>')).toMatchObject({
      code: ErrorCodes.INTERNAL,
      status: 502,
      message: `the Gatehouse server at ${fake.domain} answered HTTP 502`,
    });
  });

  it('opens the tunnel as a WebSocket with the bearer token and no compression, refreshing if needed', async () => {
    const tokens = new MemoryTokenProvider({ accessToken: 'stale', refreshToken: 'refresh-1', expiresAt: '' });
    const api = new ApiClient({ domain: fake.domain, tokens });
    const ws = await api.openTunnel('s 1');
    expect(ws.isPaused).toBe(true);
    const firstMessage = new Promise<string>((r) => ws.once('message', (d) => r(rawDataToBuffer(d).toString('utf8'))));
    await new Promise((r) => setTimeout(r, 50));
    ws.resume();
    const first = await firstMessage; // sent by the server right after the upgrade, not lost
    expect(first).toBe('hello');
    expect(fake.tunnelHeaders?.authorization).toBe('Bearer access-2');
    expect(fake.tunnelHeaders?.['sec-websocket-extensions']).toBeUndefined();
    ws.close();
    await api.close();
  });

  it('a refused tunnel rejects with the server error; an unreachable one names the domain', async () => {
    const api = new ApiClient({ domain: fake.domain, tokens: new MemoryTokenProvider({ accessToken: 'stale', refreshToken: 'revoked', expiresAt: '' }) });
    await expect(api.openTunnel('s1')).rejects.toMatchObject({ code: ErrorCodes.UNAUTHENTICATED });
    const port = await freePort();
    const gone = new ApiClient({ domain: `http://127.0.0.1:${port}`, tokens: new MemoryTokenProvider({ accessToken: 'a', refreshToken: 'r', expiresAt: '' }) });
    await expect(gone.openTunnel('s1')).rejects.toMatchObject({ code: ErrorCodes.SERVER_UNREACHABLE });
    await api.close();
    await gone.close();
  });
});
