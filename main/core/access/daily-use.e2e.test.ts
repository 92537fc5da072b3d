/**
 * Issue 14 (daily use) against the real thing: the control plane and an enrolled gateway as
 * processes (server/demo/stack.ts), embedded PostgreSQL, this machine's SessionManager and
 * LocalProxy. The connection state follows the tunnel's real events; a simulated sleep is
 * re-checked on resume; a session is extended in place under an open connection.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../api/api-client.ts';
import { MemoryTokenProvider } from '../api/token-providers.ts';
import { SettingsStore } from '../settings/settings-store.ts';
import { SessionManager } from './session-manager.ts';
import type { AccessStatus } from './types.ts';
import type { Stack } from '../../../server/demo/stack.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const missing = ['server/demo/stack.ts', 'server/control/cli.ts', 'server/gateway/cli.ts'].filter((p) => !existsSync(join(ROOT, p)));

/** The real ApiClient, keeping each tunnel WebSocket so a test can drop or freeze it. */
class TappedApi extends ApiClient {
  readonly sockets: WebSocket[] = [];
  override async openTunnel(sessionId: string): Promise<WebSocket> {
    const ws = await super.openTunnel(sessionId);
    this.sockets.push(ws);
    return ws;
  }
}

describe.skipIf(missing.length > 0)('issue 14: daily use (real control plane, gateway, PostgreSQL)', () => {
  let stack: Stack;
  let dir: string;
  let api: TappedApi;
  let manager: SessionManager;
  const statuses: AccessStatus[] = [];
  const statusOf = (id: string) => manager.list().find((s) => s.sessionId === id)!;

  beforeAll(async () => {
    const { startStack } = await import('../../../server/demo/stack.ts');
    stack = await startStack({ env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-daily-use-'));
    api = new TappedApi({ domain: stack.domain, tokens: new MemoryTokenProvider() });
    await api.login(stack.email, stack.password);
    manager = new SessionManager({ api, settings: new SettingsStore({ dir }), statusIntervalMs: 50, backoff: { initialDelayMs: 100, maxDelayMs: 500 } });
    manager.on('status', (s) => statuses.push(s));
  }, 180_000);

  afterAll(async () => {
    await manager?.close();
    await api?.close();
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('item 1: the connection state says gateway-offline within a second of the gateway dying, reconnecting when the tunnel drops, and who revoked it', async () => {
    const ready = await manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '10m' });
    await waitUntil(() => statusOf(ready.sessionId).connection?.state === 'ready');
    expect(statuses.filter((s) => s.sessionId === ready.sessionId).at(-1)?.connection?.state).toBe('ready');

    // the gateway crashes: the status (event) says so, measured from the kill
    const killedAt = Date.now();
    await stack.gateway.kill('SIGKILL');
    const offline = await waitUntil(() => statuses.find((s) => s.sessionId === ready.sessionId && s.connection?.state === 'gateway-offline' && Date.parse(s.connection.since) >= killedAt - 50));
    const gatewayOfflineMs = Date.parse(offline.connection!.since) - killedAt;
    console.info(`[measure] gateway killed -> status gateway-offline in ${gatewayOfflineMs} ms`);
    expect(gatewayOfflineMs).toBeLessThan(5_000);
    expect(offline.connection?.reason).toMatch(/gateway/);
    // a new connection meanwhile fails with a clear message
    const refused = await new pg.Client({ connectionString: ready.url, connectionTimeoutMillis: 5_000 }).connect().then(() => undefined, (e: Error) => e);
    expect(refused?.message).toMatch(/gateway/i);

    await stack.restartGateway();
    await waitUntil(() => statusOf(ready.sessionId).connection?.state === 'ready', 20_000);

    // the tunnel drops under us: reconnecting, then ready again
    const droppedAt = Date.now();
    api.sockets.at(-1)!.terminate();
    const reconnecting = await waitUntil(() => statuses.find((s) => s.sessionId === ready.sessionId && s.connection?.state === 'reconnecting' && Date.parse(s.connection.since) >= droppedAt - 50));
    console.info(`[measure] tunnel dropped -> status reconnecting in ${Date.parse(reconnecting.connection!.since) - droppedAt} ms`);
    await waitUntil(() => statusOf(ready.sessionId).connection?.state === 'ready');

    // an admin revokes it: ended, with who
    await stack.api('POST', `/sessions/${ready.sessionId}/revoke`, {});
    const ended = await waitUntil(() => (statusOf(ready.sessionId).state === 'ended' ? statusOf(ready.sessionId) : undefined));
    expect(ended.connection).toMatchObject({ state: 'ended', revokedBy: stack.email, reason: `revoked by ${stack.email}` });
  }, 90_000);

  it('item 2: a simulated sleep — a tunnel that died in silence is replaced on resume; a session revoked while asleep ends on resume with who', async () => {
    const ready = await manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '10m' });
    const before = api.sockets.length;
    // suspend: the tunnel's socket is no longer read (no pong, no message) like a sleeping laptop's
    api.sockets.at(-1)!.pause();
    const t0 = Date.now();
    const [outcome] = await manager.recheck();
    console.info(`[measure] resume re-check with a dead tunnel: ${Date.now() - t0} ms -> ${outcome?.outcome}`);
    expect(outcome).toMatchObject({ sessionId: ready.sessionId, outcome: 'reconnected' });
    expect(api.sockets.length).toBe(before + 1);
    const client = new pg.Client({ connectionString: ready.url });
    await client.connect();
    expect((await client.query('SELECT 7 AS n')).rows[0].n).toBe(7);
    await client.end();

    // healthy: nothing to do
    expect((await manager.recheck())[0]).toMatchObject({ outcome: 'ok' });

    // asleep while an admin revokes it: the client never heard; resume finds out and says who
    api.sockets.at(-1)!.pause();
    await stack.api('POST', `/sessions/${ready.sessionId}/revoke`, {});
    const [after] = await manager.recheck();
    expect(after).toMatchObject({ sessionId: ready.sessionId, outcome: 'ended', reason: `revoked by ${stack.email}` });
    expect(statusOf(ready.sessionId)).toMatchObject({ state: 'ended', endReason: 'revoked', connection: { state: 'ended', revokedBy: stack.email } });
  }, 60_000);

  it('item 3: extend in place — an open connection outlives the original expiry, new connections work, the server has the new expiry; Access again after the end', async () => {
    const ready = await manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: 6 });
    const client = new pg.Client({ connectionString: ready.url });
    await client.connect();
    await client.query('SELECT 1');
    const t0 = Date.now();
    const extended = await manager.extend(ready.sessionId, '2m');
    console.info(`[measure] extend in place: ${Date.now() - t0} ms`);
    expect(Date.parse(extended.expiresAt) - Date.parse(ready.expiresAt)).toBe(120_000);
    expect((await api.getSession(ready.sessionId)).expiresAt).toBe(extended.expiresAt);

    // past the original expiry: the same connection still answers, a new one works too (new certificate)
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(ready.expiresAt) - Date.now()) + 2_500));
    expect((await client.query('SELECT 42 AS n')).rows[0].n).toBe(42);
    const fresh = new pg.Client({ connectionString: ready.url });
    await fresh.connect();
    expect((await fresh.query('SELECT 43 AS n')).rows[0].n).toBe(43);
    await fresh.end();
    await client.end();
    expect(statusOf(ready.sessionId)).toMatchObject({ state: 'ready', connection: { state: 'ready' } });

    // over the policy's maximum: refused, the session unchanged
    await expect(manager.extend(ready.sessionId, '9999h')).rejects.toMatchObject({ code: expect.stringMatching(/INVALID_INPUT|POLICY_DENIED/) });

    await manager.stop(ready.sessionId);
    await expect(manager.extend(ready.sessionId, '10m')).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_SESSION_ENDED' });
    const again = await manager.againRequest(ready.sessionId);
    expect(again).toEqual({ projectId: ready.projectId, resource: ready.resourceName, account: ready.accountName, duration: 6 });
    const second = await manager.start({ ...again, duration: '5m' });
    expect(second).toMatchObject({ state: 'ready', port: ready.port });
    await manager.stop(second.sessionId);
  }, 60_000);
});

async function waitUntil<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
