/**
 * issue 16: each input the fuzz pass found, sent to a running stack (control plane and gateway
 * processes, real PostgreSQL, the CLI's local proxy): the answer the caller gets, and that the
 * control plane is still alive and serving /healthz afterwards.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { rawExchange, rawRequest, type RawOutcome } from '../../server/control/test/raw-http.ts';
import { Access, CliUser } from './helpers.ts';

let stack: Stack;
let user: CliUser;
let access: Access;
let port: number;
let token: string;

beforeAll(async () => {
  stack = await startStack({ pgTls: false });
  port = Number(new URL(stack.domain).port);
  token = await stack.adminToken();
  user = await CliUser.login(stack);
  access = await user.access(stack, { account: 'readonly' });
}, 180_000);

afterAll(async () => {
  await access?.stop();
  await user?.close();
  await stack?.close();
});

function send(
  method: string,
  target: string | Buffer,
  options: { body?: unknown; auth?: boolean; headers?: Record<string, string> } = {},
): Promise<RawOutcome> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth !== false) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  return rawExchange(port, rawRequest(method, target, headers, body));
}

function answer(outcome: RawOutcome): { status: number; code?: string } {
  if (outcome.kind !== 'answered') throw new Error(`no HTTP answer: ${JSON.stringify(outcome)}`);
  const code = /"code":"([A-Z_]+)"/.exec(outcome.body)?.[1];
  return { status: outcome.status, ...(code !== undefined && { code }) };
}

async function stillServes(): Promise<void> {
  const { child } = stack.server;
  expect(child.exitCode, stack.server.output().slice(-2000)).toBeNull();
  expect(child.signalCode).toBeNull();
  expect(answer(await send('GET', '/healthz', { auth: false }))).toEqual({ status: 200 });
}

const INVALID = { status: 400, code: 'GATEHOUSE_ERR_INVALID_INPUT' };

describe('issue 16 item 1: no request ends the control plane, every request gets an answer', () => {
  it('answers //%25 (plain and as a WebSocket upgrade), broken escapes and raw non-ASCII bytes in the path', async () => {
    expect(answer(await send('GET', '//%25', { auth: false }))).toEqual({ status: 404, code: 'GATEHOUSE_ERR_NOT_FOUND' });
    const upgrade = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    expect(answer(await send('GET', '//%25', { auth: false, headers: upgrade }))).toEqual({ status: 404, code: 'GATEHOUSE_ERR_NOT_FOUND' });
    expect(answer(await send('GET', '/api/v1/sessions/%/tunnel', { auth: false, headers: upgrade }))).toEqual(INVALID);
    expect(answer(await send('GET', '/%', { auth: false }))).toEqual(INVALID);
    expect(answer(await send('GET', '/api/v1/resources/%ff', {}))).toEqual(INVALID);
    expect(answer(await send('GET', Buffer.from('/api/v1/résumé', 'utf8'), { auth: false }))).toEqual(INVALID);
    expect(answer(await send('GET', Buffer.from([0x2f, 0xff, 0xfe]), { auth: false }))).toEqual(INVALID);
    await stillServes();
  });
});

describe('issue 16 item 2: bad API input is a 400 with a stable code, never a 500', () => {
  it('PATCH /users/:id with {} or only unknown fields', async () => {
    const me = await stack.api<{ user: { id: string } }>('GET', '/me');
    expect(answer(await send('PATCH', `/api/v1/users/${me.user.id}`, { body: {} }))).toEqual(INVALID);
    expect(answer(await send('PATCH', `/api/v1/users/${me.user.id}`, { body: { nickname: 'x' } }))).toEqual(INVALID);
    await stillServes();
  });

  it('a NUL in a path id', async () => {
    expect(answer(await send('GET', '/api/v1/access-requests/%00'))).toEqual(INVALID);
    expect(answer(await send('GET', '/api/v1/resources/%00'))).toEqual(INVALID);
    expect(answer(await send('GET', '/api/v1/projects/%00/resources'))).toEqual(INVALID);
    expect(answer(await send('POST', '/api/v1/sessions/%00/end'))).toEqual(INVALID);
    await stillServes();
  });

  it('a NUL in body text (user and invitation names)', async () => {
    expect(answer(await send('POST', '/api/v1/users', { body: { email: 'nul@example.com', name: 'a\u0000b', password: 'long enough pw' } }))).toEqual(INVALID);
    expect(answer(await send('POST', '/api/v1/users/invitations', { body: { email: 'nul@example.com', name: 'a\u0000b' } }))).toEqual(INVALID);
    const me = await stack.api<{ user: { id: string } }>('GET', '/me');
    expect(answer(await send('PATCH', `/api/v1/users/${me.user.id}`, { body: { name: '\u0000' } }))).toEqual(INVALID);
    await stillServes();
  });

  it('a very long from= on GET /sessions: served, or 431 once it passes the header limit', async () => {
    expect(answer(await send('GET', `/api/v1/sessions?from=${'1'.repeat(8_000)}`))).toEqual({ status: 200 });
    expect(answer(await send('GET', `/api/v1/sessions?from=${'1'.repeat(100_000)}`))).toEqual({ status: 431, code: 'GATEHOUSE_ERR_INVALID_INPUT' });
    await stillServes();
  });
});

describe('issue 16 item 3: an over-long startup user or application_name is truncated like PostgreSQL does', () => {
  it('connects through the local proxy with 300-character names; the database and the session log see the first 63 bytes', async () => {
    const applicationName = `app-${'a'.repeat(296)}`;
    const clientUser = `who-${'u'.repeat(296)}`;
    const url = new URL(access.url); // the user in a connection string wins over the `user` option
    url.username = clientUser;
    const client = new pg.Client({ connectionString: url.toString(), application_name: applicationName });
    await client.connect();
    const { rows } = await client.query("select current_setting('application_name') as app");
    await client.end();
    expect(rows[0].app).toBe(applicationName.slice(0, 63));

    type Event = { type: string; applicationName?: string; clientUser?: string };
    const deadline = Date.now() + 20_000;
    let connect: Event | undefined;
    while (!connect && Date.now() < deadline) {
      const { events } = await stack.api<{ events: Event[] }>('GET', `/sessions/${access.sessionId}/logs?limit=1000`);
      connect = events.find((e) => e.type === 'connect' && e.applicationName?.startsWith('app-'));
      if (!connect) await new Promise((r) => setTimeout(r, 200));
    }
    expect(connect).toMatchObject({ applicationName: applicationName.slice(0, 63), clientUser: clientUser.slice(0, 63) });
    await stillServes();
  });
});
