import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import {
  createPki,
  gatewayDataDir,
  removeDir,
  startClient,
  startControlPlane,
  until,
  type ControlPlaneStub,
  type Pki,
  type SessionSpec,
  type TestClient,
} from './stack.ts';

let pgServer: PgServer;
let pki: Pki;
const sessions = new Map<string, SessionSpec>();
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [pgServer, pki] = await Promise.all([startPostgres(), createPki()]);
  await pgServer.createRole('app', 'app-secret-pw');
});
afterAll(async () => {
  await pgServer?.stop();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

function addSession(id: string, ttlMs = 3600_000): SessionSpec {
  const spec = {
    id,
    expiresAt: new Date(Date.now() + ttlMs),
    target: { host: '127.0.0.1', port: pgServer.port, database: 'postgres', username: 'app', password: 'app-secret-pw' },
  };
  sessions.set(id, spec);
  return spec;
}

async function setup(opts: {
  sessionId: string;
  ttlMs?: number;
  certFor?: string;
  certFrom?: Pki;
}): Promise<{ cp: ControlPlaneStub; gateway: Gateway; client: TestClient; dataDir: string }> {
  const spec = addSession(opts.sessionId, opts.ttlMs);
  const cp = await startControlPlane(pki, sessions);
  cleanups.push(() => cp.close());
  const dataDir = await gatewayDataDir(pki);
  cleanups.push(() => removeDir(dataDir));
  const gateway = createGateway({ domain: cp.url, dataDir, eventLog: { flushIntervalMs: 20 }, link: { baseBackoffMs: 50, maxBackoffMs: 300 } });
  cleanups.push(() => gateway.close());
  await gateway.start();
  await gateway.waitConnected(10_000);
  const cert = await (opts.certFrom ?? pki).sessionCert(opts.certFor ?? opts.sessionId, spec.expiresAt);
  const client = await startClient(cp, pki, opts.sessionId, cert);
  cleanups.push(() => client.close());
  return { cp, gateway, client, dataDir };
}

function pgClient(port: number): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'whoever', database: 'postgres', ssl: false, application_name: 'gw-test' });
  c.on('error', () => undefined);
  return c;
}

describe('gateway', () => {
  it('serves a PG connection with the real credentials and records the session into the control plane', async () => {
    const { cp, client } = await setup({ sessionId: 'sess-ok' });
    const c = pgClient(client.port);
    await c.connect();
    const { rows } = await c.query('select current_user as u, 40 + 2 as answer');
    expect(rows).toEqual([{ u: 'app', answer: 42 }]);
    await c.end();
    await until(() => [...cp.stored.values()].some((e) => e.type === 'disconnect'));
    const events = [...cp.stored.values()].sort((a, b) => a.seq - b.seq);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: 'connect', sessionId: 'sess-ok', applicationName: 'gw-test' });
    expect(events.some((e) => e.type === 'statement' && e.sql === 'select current_user as u, 40 + 2 as answer' && e.outcome.status === 'ok')).toBe(true);
    expect(JSON.stringify(events)).not.toContain('app-secret-pw');
  });

  it('refuses a stream whose client certificate is for another session', async () => {
    addSession('sess-other');
    const { cp, client } = await setup({ sessionId: 'sess-victim', certFor: 'sess-other' });
    const c = pgClient(client.port);
    await expect(c.connect()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    expect([...cp.stored.values()].filter((e) => e.sessionId === 'sess-victim')).toEqual([]);
  });

  it('refuses a session certificate signed by another CA', async () => {
    const rogue = await createPki();
    const { cp, client } = await setup({ sessionId: 'sess-rogue', certFrom: rogue });
    const c = pgClient(client.port);
    await expect(c.connect()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    expect([...cp.stored.values()].filter((e) => e.sessionId === 'sess-rogue')).toEqual([]);
  });

  it('terminates open connections with 57P01 within a second when an admin revokes the session', async () => {
    const { cp, client } = await setup({ sessionId: 'sess-revoke' });
    const c = pgClient(client.port);
    await c.connect();
    await c.query('select 1');
    const failed = new Promise<Error & { code?: string }>((resolve) => c.on('error', resolve));
    const started = Date.now();
    cp.relay.endSession('sess-revoke', 'revoked');
    const err = await failed;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err.code).toBe('57P01');
    expect(err.message).toContain('revoked by an administrator');
    await until(() => [...cp.stored.values()].some((e) => e.type === 'disconnect'));
    expect([...cp.stored.values()].find((e) => e.type === 'disconnect')).toMatchObject({ reason: 'revoked' });
  });

  it('ends connections at the session expiry with 57P01', async () => {
    const { client } = await setup({ sessionId: 'sess-expire', ttlMs: 1500 });
    const c = pgClient(client.port);
    await c.connect();
    const failed = new Promise<Error & { code?: string }>((resolve) => c.on('error', resolve));
    const err = await failed;
    expect(err.code).toBe('57P01');
    expect(err.message).toContain('expired');
  });

  it('relinks after the control plane restarts and delivers the events recorded meanwhile, each once', async () => {
    const { cp, gateway } = await setup({ sessionId: 'sess-restart' });
    const port = cp.port;
    await cp.close();
    await until(() => !gateway.connected);
    for (let i = 0; i < 50; i += 1) {
      gateway.eventLog!.append({ type: 'connect', sessionId: 'sess-restart', connectionId: `offline-${i}`, at: new Date().toISOString() });
    }
    const stored = new Map(cp.stored);
    const cp2 = await startControlPlane(pki, sessions, port, stored);
    cleanups.push(() => cp2.close());
    await gateway.waitConnected(10_000);
    await until(() => [...stored.values()].filter((e) => e.connectionId.startsWith('offline-')).length === 50);
    await until(() => gateway.eventLog!.stats.unacked === 0);
    const seqs = [...stored.keys()].sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });
});
