/**
 * End to end against the real thing: embedded PostgreSQL with the sample database, the
 * control plane and an enrolled gateway as real processes (server/demo/stack.ts), and this
 * machine's SessionManager + LocalProxy + the `gatehouse` CLI. A PG driver connects to the
 * printed URL without a password; statements land in the session log; stop, revocation and
 * Ctrl+C end the session.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../api/api-client.ts';
import { MemoryTokenProvider } from '../api/token-providers.ts';
import { SettingsStore } from '../settings/settings-store.ts';
import { LocalProxy } from '../../../proxy-core/src/local/index.ts';
import { SessionManager } from './session-manager.ts';
import type { AccessStatus } from './types.ts';
import type { Stack } from '../../../server/demo/stack.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const METRICS_TOKEN = 'access-e2e-metrics-token';
const NEEDED = ['server/control/cli.ts', 'server/gateway/cli.ts', 'server/demo/stack.ts', 'proxy-core/src/local/index.ts'];
const missing = NEEDED.filter((p) => !existsSync(join(ROOT, p)));
const title = missing.length
  ? `access end to end — SKIPPED: the stack is not in place yet (missing ${missing.join(', ')})`
  : 'access end to end (real control plane, gateway, PostgreSQL)';

describe.skipIf(missing.length > 0)(title, () => {
  let stack: Stack;
  let dir: string;
  let api: ApiClient;
  let settings: SettingsStore;
  let manager: SessionManager;
  const statuses: AccessStatus[] = [];
  const relayGauge = (name: string) => readGauge(stack.domain, name);

  beforeAll(async () => {
    const { startStack } = await import('../../../server/demo/stack.ts');
    stack = await startStack({ pgTls: true, env: { GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN } });
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-access-e2e-'));
    api = new ApiClient({ domain: stack.domain, tokens: new MemoryTokenProvider() });
    await api.login(stack.email, stack.password);
    settings = new SettingsStore({ dir });
    manager = new SessionManager({ api, settings });
    manager.on('status', (s) => statuses.push(s));
  }, 180_000);

  afterAll(async () => {
    await manager?.close();
    await api?.close();
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives a passwordless local URL on the stable port; queries work and are logged; stop ends it on the server', async () => {
    const ready = await manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '1h' });
    expect(ready.state).toBe('ready');
    expect(ready.port).toBe(await settings.portFor(api.domain, stack.projectId, stack.resource, 'readonly'));
    expect(ready.url).toBe(`postgresql://${stack.roles.readonly.username}@127.0.0.1:${ready.port}/shop`);

    const client = new pg.Client({ connectionString: ready.url }); // no password anywhere
    await client.connect();
    // the connection went on a direct stream (a socket of its own through the relay)
    expect(await relayGauge('gatehouse_relay_direct_streams_open')).toBe(1);
    const who = await client.query<{ current_user: string }>('SELECT current_user');
    expect(who.rows[0]?.current_user).toBe(stack.roles.readonly.username);
    const orders = await client.query('SELECT count(*)::int AS n FROM orders');
    expect(orders.rows[0].n).toBeGreaterThan(0);
    await expect(client.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    await client.end();

    // the status shows the activity (throttled events)
    await waitUntil(() => manager.list().find((s) => s.sessionId === ready.sessionId)!.statements >= 3);

    // the session log has the statements with their outcome
    const sql = await waitUntil(async () => {
      const { events } = await api.sessionLogs(ready.sessionId);
      const statements = events.filter((e) => e.type === 'statement');
      return statements.length >= 3 ? statements : undefined;
    });
    expect(sql.map((e) => (e.type === 'statement' ? e.sql : ''))).toContain('SELECT count(*)::int AS n FROM orders');

    await manager.stop(ready.sessionId);
    const final = manager.list().find((s) => s.sessionId === ready.sessionId)!;
    expect(final).toMatchObject({ state: 'ended', endReason: 'stopped' });
    expect((await api.getSession(ready.sessionId)).status).toBe('ended');
    const forSession = statuses.filter((s) => s.sessionId === ready.sessionId);
    expect(forSession.at(-1)).toMatchObject({ state: 'ended', endReason: 'stopped' });
    // the next session for the same account gets the same port
    const again = await manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '10m' });
    expect(again.port).toBe(ready.port);
    await manager.stop(again.sessionId);
  });

  it('revocation by an admin closes the open connection with a PG error and ends the session here', async () => {
    const ready = await manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readwrite', duration: '1h' });
    const client = new pg.Client({ connectionString: ready.url });
    const clientError = new Promise<Error>((r) => client.on('error', r));
    await client.connect();
    await client.query('SELECT 1');
    await stack.api('POST', `/sessions/${ready.sessionId}/revoke`, {});
    await waitUntil(() => manager.list().find((s) => s.sessionId === ready.sessionId)!.state === 'ended');
    expect(manager.list().find((s) => s.sessionId === ready.sessionId)).toMatchObject({ endReason: 'revoked' });
    const err = await Promise.race([
      clientError,
      client.query('SELECT 1').then(
        () => new Error('query succeeded'),
        (e: Error) => e,
      ),
    ]);
    expect(err.message).toMatch(/revoked|terminat|ended|closed/i);
    await client.end().catch(() => undefined);
    // a new connection is refused
    const late = new pg.Client({ connectionString: ready.url, connectionTimeoutMillis: 3_000 });
    await expect(late.connect()).rejects.toBeTruthy();
  });

  it('a port in use fails with PORT_IN_USE before a session is created', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '10m', port })).rejects.toMatchObject({
        code: 'GATEHOUSE_ERR_PORT_IN_USE',
        message: `port ${port} is in use`,
        details: { port },
      });
    } finally {
      blocker.close();
    }
  });

  it("reports 'ready' even when the gateway's status arrives before the local proxy listens", async () => {
    // The server sends gateway-status as soon as the tunnel opens; a slow listen() puts it first.
    // Before the fix the connection state already read 'ready', so the move to 'ready' was never
    // reported and the app showed "Starting…" for as long as the session lasted.
    const seen: AccessStatus[] = [];
    const m = new SessionManager({
      api,
      settings,
      statusIntervalMs: 10,
      createProxy: (opts) => {
        const proxy = new LocalProxy(opts);
        const listen = proxy.listen.bind(proxy);
        proxy.listen = async () => {
          await new Promise((r) => setTimeout(r, 500));
          return listen();
        };
        return proxy;
      },
    });
    m.on('status', (s) => seen.push(s));
    try {
      const ready = await m.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '10m' });
      expect(ready.state).toBe('ready');
      expect(seen.some((s) => s.state === 'starting' && s.connection?.state === 'ready')).toBe(true); // the race did happen
      await waitUntil(() => seen.at(-1)?.state === 'ready', 3_000);
      await m.stop(ready.sessionId);
    } finally {
      await m.close();
    }
  });

  it('a dropped tunnel: the open connection carries on (its own direct stream), new connections work over a new tunnel', async () => {
    const tapped = new TappedApi({ domain: stack.domain, tokens: api.tokens });
    const m = new SessionManager({ api: tapped, settings, backoff: { initialDelayMs: 100, maxDelayMs: 500 } });
    try {
      const ready = await m.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '10m' });
      const before = new pg.Client({ connectionString: ready.url });
      await before.connect();
      await before.query('SELECT 1');
      expect(tapped.sockets).toHaveLength(1);
      tapped.sockets[0].terminate(); // the network drops under the tunnel
      expect((await before.query('SELECT 7 AS n')).rows[0].n).toBe(7);

      await waitUntil(() => tapped.sockets.length === 2 && tapped.sockets[1].readyState === 1);
      const after = new pg.Client({ connectionString: ready.url });
      await after.connect();
      expect((await after.query('SELECT 42 AS n')).rows[0].n).toBe(42);
      await after.end();
      await before.end();
      expect(m.list()[0]).toMatchObject({ state: 'ready' });
    } finally {
      await m.close();
      await tapped.close();
    }
  });

  it('where direct streams are unavailable (another replica, an older gateway) connections go through the tunnel', async () => {
    const misrouted = new MisroutedApi({ domain: stack.domain, tokens: api.tokens });
    const m = new SessionManager({ api: misrouted, settings });
    try {
      const ready = await m.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '10m' });
      const directBefore = await relayGauge('gatehouse_relay_streams_total');
      for (let i = 0; i < 3; i++) {
        const c = new pg.Client({ connectionString: ready.url });
        await c.connect();
        expect((await c.query('SELECT $1::int AS n', [i])).rows[0].n).toBe(i);
        expect(await relayGauge('gatehouse_relay_direct_streams_open')).toBe(0);
        await c.end();
      }
      // the first attempt was refused (421) and said so; the tunnel served all three
      expect(misrouted.attempts).toBe(1);
      expect((await relayGauge('gatehouse_relay_streams_total')) - directBefore).toBe(3);
      await m.stop(ready.sessionId);
    } finally {
      await m.close();
      await misrouted.close();
    }
  });

  it('at expiry the session ends here with endReason expired and the port is released', async () => {
    const ready = await manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: 3 });
    const client = new pg.Client({ connectionString: ready.url });
    const clientError = new Promise<Error>((r) => client.on('error', r));
    await client.connect();
    await waitUntil(() => manager.list().find((s) => s.sessionId === ready.sessionId)!.state === 'ended', 15_000);
    expect(manager.list().find((s) => s.sessionId === ready.sessionId)).toMatchObject({ endReason: 'expired' });
    const err = await Promise.race([
      clientError,
      client.query('SELECT 1').then(
        () => new Error('query succeeded'),
        (e: Error) => e,
      ),
    ]);
    expect(err.message).toMatch(/expired|terminat|ended|closed/i);
    await client.end().catch(() => undefined);
    const { isPortFree } = await import('../settings/port-allocation.ts');
    expect(await isPortFree(ready.port)).toBe(true);
  });

  it('the CLI: login, db access --json prints one line when ready, psql-less query works, Ctrl+C ends the session and exits 0', async () => {
    const home = join(dir, 'cli-home');
    const env = { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' };
    const bin = join(ROOT, 'bin/gatehouse.mjs');
    const login = spawn(process.execPath, [bin, 'login', '--domain', stack.domain, '--email', stack.email, '--password', stack.password], { env });
    expect(await exitCode(login)).toBe(0);

    const child = spawn(
      process.execPath,
      [bin, 'db', 'access', '--resource', stack.resource, '--account', 'readonly', '--project-id', stack.projectId, '--duration', '15m', '--json'],
      { env },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((r, j) => {
      lines.once('line', r);
      child.once('exit', (code) => j(new Error(`exited ${code}: ${stderr}`)));
    });
    const ready = JSON.parse(first) as { url: string; port: number; sessionId: string; expiresAt: string };
    expect(Object.keys(ready).sort()).toEqual(['expiresAt', 'port', 'sessionId', 'url']);

    const client = new pg.Client({ connectionString: ready.url });
    await client.connect();
    expect((await client.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBeGreaterThan(0);
    await client.end();

    const more: string[] = [];
    lines.on('line', (l) => more.push(l));
    child.kill('SIGINT');
    expect(await exitCode(child)).toBe(0);
    expect(more).toEqual([]); // stdout had exactly one line
    expect((await api.getSession(ready.sessionId)).status).toBe('ended');
  });

  it('issue 10 item 4: db access --local-password prints the generated password once, in the URL; clients without it get 28P01', async () => {
    const home = join(dir, 'cli-home-local-password');
    const env = { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' };
    const bin = join(ROOT, 'bin/gatehouse.mjs');
    const login = spawn(process.execPath, [bin, 'login', '--domain', stack.domain, '--email', stack.email, '--password', stack.password], { env });
    expect(await exitCode(login)).toBe(0);

    const child = spawn(
      process.execPath,
      [
        bin,
        'db',
        'access',
        '--resource',
        stack.resource,
        '--account',
        'readonly',
        '--project-id',
        stack.projectId,
        '--duration',
        '15m',
        '--local-password',
        '--json',
      ],
      { env },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((r, j) => {
      lines.once('line', r);
      child.once('exit', (code) => j(new Error(`exited ${code}: ${stderr}`)));
    });
    const ready = JSON.parse(first) as { url: string; port: number; sessionId: string; localPassword: boolean };
    expect(ready.localPassword).toBe(true);
    const url = new URL(ready.url);
    expect(url.password).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const client = new pg.Client({ connectionString: ready.url });
    await client.connect();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.end();
    url.password = 'not-the-password';
    const refused = await new pg.Client({ connectionString: url.toString() }).connect().then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(refused?.code).toBe('28P01');

    child.kill('SIGINT');
    expect(await exitCode(child)).toBe(0);
    expect(stderr).not.toContain(new URL(ready.url).password);
  });
});

/** The real ApiClient, keeping a handle on each tunnel WebSocket so a test can drop it. */
/** Presents a stream key the relay does not know, as when a load balancer sends the stream to another replica. */
class MisroutedApi extends ApiClient {
  attempts = 0;
  override openDirectStream(sessionId: string, _key: string, meta: Parameters<ApiClient['openDirectStream']>[2]) {
    this.attempts += 1;
    return super.openDirectStream(sessionId, 'k'.repeat(32), meta);
  }
}

class TappedApi extends ApiClient {
  readonly sockets: WebSocket[] = [];
  override async openTunnel(sessionId: string): Promise<WebSocket> {
    const ws = await super.openTunnel(sessionId);
    this.sockets.push(ws);
    return ws;
  }
}

/** One of the control plane's relay gauges from /metrics. */
async function readGauge(domain: string, name: string): Promise<number> {
  const res = await fetch(`${domain}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

async function waitUntil<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exitCode(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
}
