/**
 * Issue 13 "Done when": two control plane replicas on one PostgreSQL store, one gateway linked
 * to both; 20 accounts due at once are each rotated exactly once (the lease in the store).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../../../test/fixtures/postgres.ts';
import { createGateway, type Gateway } from '../../../gateway/gateway.ts';
import { createControlPlane, type ControlPlane } from '../../app.ts';
import { bootstrap } from '../../bootstrap.ts';
import { accountPasswordAad } from '../../store/accounts.ts';
import { ADMIN, call, login } from '../../test/helpers.ts';

const ACCOUNTS = 20;
let pgServer: PgServer;
let dir: string;
let planes: ControlPlane[] = [];
let gateway: Gateway | undefined;

beforeAll(async () => {
  pgServer = await startPostgres();
  await pgServer.query('create database gatehouse_store');
  await pgServer.query('create database appdb');
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-rot-replicas-'));
  const databaseUrl = `postgres://${pgServer.superuser}:${encodeURIComponent(pgServer.superuserPassword)}@127.0.0.1:${pgServer.port}/gatehouse_store`;
  const rootKeyBase64 = randomBytes(32).toString('base64');
  planes = [0, 1].map((i) =>
    createControlPlane({
      dataDir: join(dir, `plane-${i}`),
      port: 0,
      databaseUrl,
      rootKeyBase64,
      replicaHeartbeatMs: 300,
      credentialSweepMs: 60_000,
      rotationRetryBaseMs: 200,
      rotationRetryMaxMs: 500,
    }),
  );
  for (const p of planes) await p.start();
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  for (const p of planes) await p.close().catch(() => undefined);
  await pgServer?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('issue 13 item 3: two replicas on one store rotate 20 due accounts exactly once', () => {
  it('each account is rotated once, by one replica, and its stored password works', async () => {
    const [a, b] = planes;
    const { projectId } = await bootstrap(a.store, { ...ADMIN, projectName: 'ops' });
    const { accessToken: token } = await login(a.url, ADMIN.email, ADMIN.password);
    const api = (method: string, path: string, body?: unknown) => call(a.url, method, `/api/v1${path}`, { token, ...(body !== undefined && { body }) });
    const gw = await api('POST', '/gateways', { name: 'edge', projectId });
    const gatewayId = gw.body.gateway.id as string;
    gateway = createGateway({ domain: a.url, dataDir: join(dir, 'gw'), token: gw.body.enrollmentToken, link: { baseBackoffMs: 50, maxBackoffMs: 300 } });
    await gateway.start();
    const deadline = Date.now() + 20_000;
    while (!(a.relay.isGatewayConnected(gatewayId) && b.relay.isGatewayConnected(gatewayId))) {
      if (Date.now() > deadline) throw new Error('the gateway did not link to both replicas');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500)); // let the gateway settle its links (seed → direct)
    const resource = await api('POST', `/projects/${projectId}/resources`, {
      name: 'app',
      gatewayId,
      host: '127.0.0.1',
      port: pgServer.port,
      database: 'appdb',
      ssl: { enabled: false },
    });
    const ids: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      await pgServer.createRole(`r${i}`, `old-password-${i}`);
      const acc = await api('POST', `/resources/${resource.body.resource.id}/accounts`, { name: `r${i}`, username: `r${i}`, password: `old-password-${i}` });
      ids.push(acc.body.account.id);
      await api('PATCH', `/accounts/${acc.body.account.id}/rotation`, { enabled: true, intervalDays: 1 });
    }
    // All due now; health checks out of the way so only rotations compete for the leases.
    await a.store.db
      .updateTable('account_credentials')
      .set({ next_rotation_at: new Date(Date.now() - 1000), health_next_at: new Date(Date.now() + 86_400_000) })
      .execute();

    const until = Date.now() + 45_000;
    for (;;) {
      await Promise.all([a.credentialScheduler.runOnce(), b.credentialScheduler.runOnce()]);
      const done = await a.store.db.selectFrom('account_credentials').select('account_id').where('last_result', '=', 'ok').execute();
      if (done.length === ACCOUNTS) break;
      if (Date.now() > until) {
        const rest = await a.store.db
          .selectFrom('account_credentials')
          .select(['last_result', 'last_error_code', 'last_error', 'lease_owner'])
          .where('last_result', 'is distinct from', 'ok')
          .execute();
        throw new Error(`only ${done.length} of ${ACCOUNTS} rotated: ${JSON.stringify(rest)}`);
      }
    }
    const rotated = await a.store.db.selectFrom('audit_events').select('target_id').where('action', '=', 'account.rotated').execute();
    expect(rotated).toHaveLength(ACCOUNTS);
    expect(new Set(rotated.map((r) => r.target_id))).toEqual(new Set(ids));
    // A link the gateway replaces while it settles on its set of replicas may cut an attempt short
    // (a transport failure, retried); it never makes an account rotate twice.
    const failed = await a.store.db.selectFrom('audit_events').select('details').where('action', '=', 'account.rotation_failed').execute();
    for (const f of failed) expect((f.details as { code: string }).code).toMatch(/^(GATEWAY_REFUSED|GATEWAY_OFFLINE|TIMEOUT)$/);
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = await a.store.accounts.findById(ids[i]);
      const password = a.services.box.openString(account!.passwordSealed!, accountPasswordAad(ids[i]));
      expect(password).not.toBe(`old-password-${i}`);
      const c = new pg.Client({ host: '127.0.0.1', port: pgServer.port, user: `r${i}`, password, database: 'appdb' });
      await c.connect();
      await c.end();
    }
    // Each replica's metrics count its own share; together they are 20.
    const counts = await Promise.all(
      planes.map(async (p) => Number(/gatehouse_credential_rotations_total\{result="ok",code="OK"\} (\d+)/.exec(await p.services.metrics.render())?.[1] ?? 0)),
    );
    expect(counts[0] + counts[1]).toBe(ACCOUNTS);
  });
});
