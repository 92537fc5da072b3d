/**
 * The stack credential tests run against, in one process: a real PostgreSQL (the database the
 * accounts belong to), a real control plane on port 0 (its own PGlite store unless a
 * `databaseUrl` is given), a real gateway enrolled through the API and linked over a real
 * WebSocket, and a resource on that gateway. Clients reach the database through a real
 * SessionManager + local proxy, as the CLI and the desktop app do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ApiClient } from '../../../../main/core/api/api-client.ts';
import { MemoryTokenProvider } from '../../../../main/core/api/token-providers.ts';
import { SessionManager } from '../../../../main/core/access/session-manager.ts';
import { SettingsStore } from '../../../../main/core/settings/settings-store.ts';
import { createTestCertificates } from '../../../../proxy-core/src/upstream/test-certs.ts';
import { startPostgres, type PgServer, type PgServerOptions } from '../../../../test/fixtures/postgres.ts';
import { createGateway, type Gateway } from '../../../gateway/gateway.ts';
import type { ControlPlaneConfig } from '../../config.ts';
import type { ControlPlaneTestHooks } from '../../app.ts';
import { accountPasswordAad } from '../../store/accounts.ts';
import { ADMIN, call, login, startTestPlane, type JsonResponse, type TestPlane } from '../../test/helpers.ts';

export const TARGET_DB = 'appdb';

export interface RotationStack {
  pg: PgServer;
  t: TestPlane;
  token: string;
  gatewayId: string;
  gateway: Gateway;
  resourceId: string;
  /** Every API response body seen, for the plaintext scan. */
  responses: string[];
  api<T = any>(method: string, path: string, body?: unknown): Promise<JsonResponse<T>>;
  /** Creates a login role and an account for it on the resource; returns the account id. */
  addAccount(name: string, password: string, grants?: string): Promise<string>;
  /** The account's stored password, decrypted (tests only). */
  storedPassword(accountId: string): Promise<string>;
  /** Logs in directly (not through Gatehouse); resolves to the SQLSTATE of a refusal, or 'ok'. */
  directLogin(user: string, password: string): Promise<string>;
  /** A node-postgres client through Gatehouse (a session of the admin via the local proxy); caller ends it. */
  throughGatehouse(accountName: string): Promise<{ client: pg.Client; url: string; stop(): Promise<void> }>;
  startGateway(): Promise<void>;
  stopGateway(): Promise<void>;
  close(): Promise<void>;
}

export async function startRotationStack(
  options: { pg?: PgServerOptions; plane?: Partial<ControlPlaneConfig>; hooks?: ControlPlaneTestHooks; allowMd5?: boolean } = {},
): Promise<RotationStack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    const certs = createTestCertificates();
    const pgServer = await startPostgres({ tls: { certPem: certs.certPem, keyPem: certs.keyPem }, keepLogLines: 50_000, ...options.pg });
    cleanups.push(() => pgServer.stop());
    await pgServer.query(`create database ${TARGET_DB}`);
    const t = await startTestPlane({ credentialSweepMs: 60_000, ...options.plane });
    cleanups.push(() => t.close());
    const { accessToken: token } = await login(t.url, ADMIN.email, ADMIN.password);
    const responses: string[] = [];
    const api = async <T = any>(method: string, path: string, body?: unknown) => {
      const res = await call<T>(t.url, method, `/api/v1${path}`, { token, ...(body !== undefined && { body }) });
      responses.push(res.text);
      return res;
    };
    const gw = await api('POST', '/gateways', { name: 'edge', projectId: t.projectId });
    const gatewayId = gw.body.gateway.id as string;
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-rot-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let gateway = createGateway({ domain: t.url, dataDir: join(dir, 'gw'), token: gw.body.enrollmentToken, link: { baseBackoffMs: 50, maxBackoffMs: 300 } });
    cleanups.push(() => gateway.close());
    await gateway.start();
    await gateway.waitConnected(15_000);
    const linked = async () => {
      const deadline = Date.now() + 10_000;
      while (!t.plane.relay.isGatewayConnected(gatewayId)) {
        if (Date.now() > deadline) throw new Error('gateway did not link');
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await linked();
    const res = await api('POST', `/projects/${t.projectId}/resources`, {
      name: 'app',
      gatewayId,
      host: '127.0.0.1',
      port: pgServer.port,
      database: TARGET_DB,
      ssl: { enabled: true, rejectUnauthorized: true, ca: certs.caPem },
      ...(options.allowMd5 && { allowMd5: true }),
    });
    if (res.status !== 201) throw new Error(`resource: ${res.text}`);
    const resourceId = res.body.resource.id as string;

    const api2 = new ApiClient({ domain: t.url, tokens: new MemoryTokenProvider() });
    await api2.login(ADMIN.email, ADMIN.password);
    cleanups.push(() => api2.close());
    const manager = new SessionManager({ api: api2, settings: new SettingsStore({ dir }) });
    cleanups.push(() => manager.close());

    const stack: RotationStack = {
      pg: pgServer,
      t,
      token,
      gatewayId,
      get gateway() {
        return gateway;
      },
      resourceId,
      responses,
      api,
      async addAccount(name, password, grants) {
        await pgServer.createRole(name, password, grants);
        const r = await api('POST', `/resources/${resourceId}/accounts`, { name, username: name, password });
        if (r.status !== 201) throw new Error(`account: ${r.text}`);
        return r.body.account.id as string;
      },
      async storedPassword(accountId) {
        const account = await t.plane.store.accounts.findById(accountId);
        if (!account?.passwordSealed) throw new Error('no stored password');
        return t.plane.services.box.openString(account.passwordSealed, accountPasswordAad(accountId));
      },
      async directLogin(user, password) {
        const c = new pg.Client({ host: '127.0.0.1', port: pgServer.port, user, password, database: TARGET_DB, ssl: { rejectUnauthorized: false } });
        try {
          await c.connect();
          await c.query('select 1');
          return 'ok';
        } catch (err) {
          return (err as { code?: string }).code ?? (err as Error).message;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      async throughGatehouse(accountName) {
        const ready = await manager.start({ projectId: t.projectId, resource: 'app', account: accountName, duration: '30m' });
        const client = new pg.Client({ connectionString: ready.url });
        await client.connect();
        return {
          client,
          url: ready.url,
          async stop() {
            await client.end().catch(() => undefined);
            await manager.stop(ready.sessionId);
          },
        };
      },
      async startGateway() {
        gateway = createGateway({ domain: t.url, dataDir: join(dir, 'gw'), link: { baseBackoffMs: 50, maxBackoffMs: 300 } });
        cleanups.push(() => gateway.close());
        await gateway.start();
        await gateway.waitConnected(15_000);
        await linked();
      },
      async stopGateway() {
        await gateway.close();
        const deadline = Date.now() + 10_000;
        while (t.plane.relay.isGatewayConnected(gatewayId)) {
          if (Date.now() > deadline) throw new Error('gateway did not unlink');
          await new Promise((r) => setTimeout(r, 25));
        }
      },
      close,
    };
    return stack;
  } catch (err) {
    await close();
    throw err;
  }
}
