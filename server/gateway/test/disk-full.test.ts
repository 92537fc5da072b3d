/**
 * The gateway's data dir on a 2 MB tmpfs: when it fills, statements fail with 53100 and none
 * runs unrecorded (a counter table against the session log); when space returns, the same
 * gateway process serves again. Skipped with a message where a tmpfs cannot be mounted.
 */
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { mountSmallFs, type SmallFs } from '../../../test/fixtures/small-fs.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import { saveIdentity } from '../identity.ts';
import { createPki, startClient, startControlPlane, until, type ControlPlaneStub, type Pki, type SessionSpec, type TestClient } from './stack.ts';

const SESSION = 'sess-disk';
const mounted = await mountSmallFs(2 * 1024 * 1024);
const skipReason = typeof mounted === 'string' ? mounted : undefined;

interface PgError extends Error {
  code?: string;
  hint?: string;
}

describe.skipIf(skipReason !== undefined)(`issue 9 item 1: recording fails closed on a full disk${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const fs = mounted as SmallFs;
  let pgServer: PgServer;
  let pki: Pki;
  let cp: ControlPlaneStub;
  let gateway: Gateway;
  let client: TestClient;
  let admin: pg.Client;

  beforeAll(async () => {
    [pgServer, pki] = await Promise.all([startPostgres(), createPki()]);
    await pgServer.createRole('app', 'app-secret-pw');
    admin = pgServer.client();
    await admin.connect();
    await admin.query('create table counter (n int primary key); grant insert, select on counter to app');
    const spec: SessionSpec = {
      id: SESSION,
      expiresAt: new Date(Date.now() + 3600_000),
      target: { host: '127.0.0.1', port: pgServer.port, database: 'postgres', username: 'app', password: 'app-secret-pw' },
    };
    cp = await startControlPlane(pki, new Map([[SESSION, spec]]));
    await saveIdentity(fs.dir, pki.gateway);
    gateway = createGateway({
      domain: cp.url,
      dataDir: fs.dir,
      eventLog: { flushIntervalMs: 20, reserveBytes: 256 * 1024, minFreeBytes: 64 * 1024, warnFreeBytes: 1024 * 1024, diskCheckIntervalMs: 100 },
      link: { baseBackoffMs: 50, maxBackoffMs: 300 },
    });
    await gateway.start();
    await gateway.waitConnected(10_000);
    client = await startClient(cp, pki, SESSION, await pki.sessionCert(SESSION, spec.expiresAt));
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await cp?.close();
    await admin?.end().catch(() => undefined);
    await pgServer?.stop();
    await fs.unmount();
  });

  function connect(): pg.Client {
    const c = new pg.Client({ host: '127.0.0.1', port: client.port, user: 'app', database: 'postgres', ssl: false });
    c.on('error', () => undefined);
    return c;
  }

  it('refuses statements and connections with 53100 while full, runs nothing unrecorded, and recovers without a restart', async () => {
    let next = 0;
    const worker = async (): Promise<PgError> => {
      const c = connect();
      await c.connect();
      try {
        for (;;) await c.query(`insert into counter values (${++next})`);
      } catch (err) {
        return err as PgError;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    const workers = Array.from({ length: 4 }, () => worker());
    await until(() => next >= 200, 30_000);
    fs.fill();
    const errors = await Promise.all(workers);
    for (const err of errors) {
      expect(err.code).toBe('53100');
      expect(err.message).toMatch(/recording is unavailable.*out of disk space.*not run/);
      expect(err.hint).toMatch(/Free space/);
    }
    // The low-space flag comes from the free-space check (once a second); a failed write refuses at once.
    await expect.poll(() => gateway.eventLog?.health, { timeout: 3000 }).toMatchObject({ lowSpace: true, recording: { state: 'unavailable' } });

    const refused = connect();
    const connectError = (await refused.connect().then(
      () => undefined,
      (e: PgError) => e,
    )) as PgError;
    expect(connectError?.code).toBe('53100');
    expect(connectError.message).toMatch(/recording is unavailable/);

    // Nothing ran unrecorded: every row in the counter table has its statement in the log.
    const recorded = (): Set<number> =>
      new Set(
        [...cp.stored.values()].flatMap((e) =>
          e.type === 'statement' && /^insert into counter values \((\d+)\)$/.test(e.sql) ? [Number(/\((\d+)\)/.exec(e.sql)![1])] : [],
        ),
      );
    const rows = (await admin.query<{ n: number }>('select n from counter order by n')).rows.map((r) => r.n);
    expect(rows.length).toBeGreaterThanOrEqual(200);
    await until(() => rows.every((n) => recorded().has(n)), 10_000);
    const seqs = [...cp.stored.keys()].sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // no seq gap

    // Space returns: the same process accepts connections and statements again.
    await rm(`${fs.dir}/filler`);
    await until(() => gateway.eventLog?.refusal() === undefined, 5_000);
    const again = connect();
    await again.connect();
    await again.query(`insert into counter values (${++next})`);
    await again.end();
    const after = next;
    await until(() => recorded().has(after), 10_000);
  }, 90_000);
});
