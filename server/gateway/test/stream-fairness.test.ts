/**
 * Issue 10 item 3: one member flooding the gateway link with streams that never start TLS only
 * hurts themselves: their extra streams are refused, their pending ones time out, and another
 * user's session still connects at once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { Mux } from '../../../proxy-core/src/tunnel/mux.ts';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import { createPki, gatewayDataDir, removeDir, startClient, startControlPlane, until, type ControlPlaneStub, type Pki, type SessionSpec } from './stack.ts';

const FLOOD = 1_100;
const HANDSHAKE_MS = 1_500;

let pgServer: PgServer;
let pki: Pki;
let cp: ControlPlaneStub;
let gateway: Gateway;
let dataDir: string;
const sessions = new Map<string, SessionSpec>();
const cleanups: Array<() => Promise<unknown>> = [];

function addSession(id: string, userEmail: string): SessionSpec {
  const spec: SessionSpec = {
    id,
    userEmail,
    expiresAt: new Date(Date.now() + 3600_000),
    target: { host: '127.0.0.1', port: pgServer.port, database: 'postgres', username: 'app', password: 'app-secret-pw' },
  };
  sessions.set(id, spec);
  return spec;
}

beforeAll(async () => {
  [pgServer, pki] = await Promise.all([startPostgres(), createPki()]);
  await pgServer.createRole('app', 'app-secret-pw');
  cp = await startControlPlane(pki, sessions);
  dataDir = await gatewayDataDir(pki);
  gateway = createGateway({
    domain: cp.url,
    dataDir,
    eventLog: { flushIntervalMs: 20 },
    link: { baseBackoffMs: 50, maxBackoffMs: 300 },
    streams: { handshakeTimeoutMs: HANDSHAKE_MS },
  });
  await gateway.start();
  await gateway.waitConnected(10_000);
}, 60_000);
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  await gateway?.close();
  await cp?.close();
  await removeDir(dataDir);
  await pgServer?.stop();
});

/** The abuser's own tunnel: raw streams that never start TLS. */
async function flood(sessionId: string, count: number): Promise<{ refusals: Map<string, number>; mux: Mux; resets: () => number }> {
  const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/api/v1/sessions/${sessionId}/tunnel`, {
    headers: { authorization: `Bearer ${sessionId}` },
    perMessageDeflate: false,
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const mux = new Mux(ws, { initiator: true, maxStreams: 4096 });
  cleanups.push(() => mux.close());
  const refusals = new Map<string, number>();
  let resets = 0;
  for (let i = 0; i < count; i++) {
    const stream = mux.openStream({ kind: 'pg', clientAddress: `127.0.0.1:${10_000 + i}` });
    stream.on('error', (err: Error & { code?: string }) => {
      resets += 1;
      const key = err.code ?? 'none';
      refusals.set(key, (refusals.get(key) ?? 0) + 1);
    });
  }
  return { refusals, mux, resets: () => resets };
}

describe('issue 10 item 3: stream exhaustion by one member only hurts that member', () => {
  it(`abuser opens ${FLOOD} streams that never start TLS; another user's session still connects at once`, async () => {
    addSession('sess-abuser', 'mallory@example.com');
    const victim = addSession('sess-victim', 'ann@example.com');
    const abuse = await flood('sess-abuser', FLOOD);
    // The gateway refuses what is over the abuser's share right away.
    await until(() => (abuse.refusals.get(ErrorCodes.RATE_LIMITED) ?? 0) >= FLOOD - 128, 30_000);

    const client = await startClient(cp, pki, 'sess-victim', await pki.sessionCert('sess-victim', victim.expiresAt));
    cleanups.push(() => client.close());
    const started = Date.now();
    const c = new pg.Client({ host: '127.0.0.1', port: client.port, user: 'ann', database: 'postgres', ssl: false });
    c.on('error', () => undefined);
    await c.connect();
    const { rows } = await c.query('select 1 as one');
    const elapsed = Date.now() - started;
    await c.end();
    expect(rows).toEqual([{ one: 1 }]);
    expect(elapsed).toBeLessThan(5_000); // not refused, not the ~12 s of the flood (generous: the machine is shared)

    // The abuser's pending streams end at the short handshake deadline.
    await until(() => abuse.resets() === FLOOD, HANDSHAKE_MS + 30_000);
    // Every stream over the share was refused at once; the admitted ones (64 at a time, more as
    // earlier ones time out) ended at the deadline.
    const limited = abuse.refusals.get(ErrorCodes.RATE_LIMITED) ?? 0;
    expect(limited).toBeGreaterThan(FLOOD / 2);
    expect(new Set(abuse.refusals.keys())).toEqual(new Set([ErrorCodes.RATE_LIMITED, ErrorCodes.TUNNEL_CLOSED])); // refused, or reset at the deadline

    // Once the flood is over, the abuser's share is free again: their own real client connects.
    const abuserSpec = sessions.get('sess-abuser')!;
    const own = await startClient(cp, pki, 'sess-abuser', await pki.sessionCert('sess-abuser', abuserSpec.expiresAt));
    cleanups.push(() => own.close());
    const again = new pg.Client({ host: '127.0.0.1', port: own.port, user: 'mallory', database: 'postgres', ssl: false });
    again.on('error', () => undefined);
    await again.connect();
    expect((await again.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    await again.end();
  }, 120_000);
});
