/**
 * The whole data path in one process, for Web Access tests: embedded PostgreSQL with the
 * demo's `shop` data, a real control plane (PGlite store) on 127.0.0.1:0 and a real gateway
 * enrolled through the API and linked over its WebSocket — the demo stack without child
 * processes, so it starts in seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../../gateway/gateway.ts';
import { startPostgres, type PgServer } from '../../../demo/embedded-postgres.ts';
import { createSampleDatabase, SAMPLE_DATABASE, type SampleRoles } from '../../../demo/sample-database.ts';
import type { ControlPlaneConfig } from '../../config.ts';
import { ADMIN, call, login, startTestPlane, waitFor, type TestPlane } from '../../test/helpers.ts';

export interface WebStack {
  domain: string;
  projectId: string;
  plane: TestPlane;
  pg: PgServer;
  roles: SampleRoles;
  gateway: Gateway;
  resourceId: string;
  accountIds: Record<'readonly' | 'readwrite', string>;
  adminToken: string;
  close(): Promise<void>;
}

export async function startWebStack(config: Partial<ControlPlaneConfig> = {}): Promise<WebStack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const pg = await startPostgres({ authMethod: 'scram-sha-256' });
    cleanups.push(() => pg.stop());
    const roles = await createSampleDatabase(pg);
    const plane = await startTestPlane(config);
    cleanups.push(() => plane.close());
    const adminToken = (await login(plane.url, ADMIN.email, ADMIN.password)).accessToken;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await call(plane.url, method, `/api/v1${path}`, {
        token: adminToken,
        body,
      });
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      return res.body;
    };
    const created = await api('POST', '/gateways', {
      name: 'web-gw',
      projectId: plane.projectId,
    });
    const gatewayDir = await mkdtemp(join(tmpdir(), 'gatehouse-web-gw-'));
    cleanups.push(() => rm(gatewayDir, { recursive: true, force: true }));
    const gateway = createGateway({
      domain: plane.url,
      dataDir: gatewayDir,
      token: created.enrollmentToken,
      eventLog: { flushIntervalMs: 20 },
      link: { baseBackoffMs: 50, maxBackoffMs: 300 },
    });
    await gateway.start();
    cleanups.push(() => gateway.close());
    await waitFor(
      async () =>
        (
          (await api('GET', '/gateways')).gateways as Array<{
            id: string;
            connected: boolean;
          }>
        ).some((g) => g.id === created.gateway.id && g.connected),
      20_000,
    );
    const { resource } = await api('POST', `/projects/${plane.projectId}/resources`, {
      name: 'shop',
      gatewayId: created.gateway.id,
      host: '127.0.0.1',
      port: pg.port,
      database: SAMPLE_DATABASE,
      ssl: { enabled: false, rejectUnauthorized: false },
    });
    const accountIds = {} as WebStack['accountIds'];
    for (const name of ['readonly', 'readwrite'] as const) {
      const { account } = await api('POST', `/resources/${resource.id}/accounts`, {
        name,
        username: roles[name].username,
        password: roles[name].password,
      });
      accountIds[name] = account.id;
    }
    return {
      domain: plane.url,
      projectId: plane.projectId,
      plane,
      pg,
      roles,
      gateway,
      resourceId: resource.id,
      accountIds,
      adminToken,
      async close() {
        for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    throw err;
  }
}
