/**
 * Issue 10 items 1 and 4 at the real gateway: it opens only target passwords sealed to its own
 * key, and it records the client's OS user and process in the connect event.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/keys.ts';
import { Mux } from '../../../proxy-core/src/tunnel/mux.ts';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import { createPki, gatewayDataDir, removeDir, startClient, startControlPlane, until, type ControlPlaneStub, type Pki, type SessionSpec } from './stack.ts';

let pgServer: PgServer;
let pki: Pki;
let cp: ControlPlaneStub;
let gateway: Gateway;
let dataDir: string;
const sessions = new Map<string, SessionSpec>();

function addSession(id: string, extra: Partial<SessionSpec> = {}): SessionSpec {
  const spec: SessionSpec = {
    id,
    expiresAt: new Date(Date.now() + 3600_000),
    target: { host: '127.0.0.1', port: pgServer.port, database: 'postgres', username: 'app', password: 'app-secret-pw' },
    ...extra,
  };
  sessions.set(id, spec);
  return spec;
}

beforeAll(async () => {
  [pgServer, pki] = await Promise.all([startPostgres(), createPki()]);
  await pgServer.createRole('app', 'app-secret-pw');
  cp = await startControlPlane(pki, sessions);
  dataDir = await gatewayDataDir(pki);
  gateway = createGateway({ domain: cp.url, dataDir, eventLog: { flushIntervalMs: 20 }, link: { baseBackoffMs: 50, maxBackoffMs: 300 } });
  await gateway.start();
  await gateway.waitConnected(10_000);
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await cp?.close();
  await removeDir(dataDir);
  await pgServer?.stop();
});

describe('issue 10 item 1: the gateway opens only passwords sealed to its own key', () => {
  it('a stream whose password was sealed to another key is reset with DECRYPT_FAILED before any database connection', async () => {
    addSession('sess-wrong-seal', { sealTo: generateKeyPair().publicKeyPem });
    const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/api/v1/sessions/sess-wrong-seal/tunnel`, {
      headers: { authorization: 'Bearer sess-wrong-seal' },
      perMessageDeflate: false,
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const mux = new Mux(ws, { initiator: true, heartbeatIntervalMs: 0 });
    const stream = mux.openStream({ kind: 'pg', clientAddress: '127.0.0.1:1' });
    const err = await new Promise<Error & { code?: string }>((resolve) => stream.once('error', resolve));
    expect(err.code).toBe(ErrorCodes.DECRYPT_FAILED);
    expect(gateway.connectionCount).toBe(0);
    await mux.close();
  });
});

describe('issue 10 item 4: the session log names the client OS user and process', () => {
  it('the connect event carries clientOsUser, clientPid and clientProcess from the local proxy', async () => {
    const spec = addSession('sess-os-user');
    const client = await startClient(cp, pki, 'sess-os-user', await pki.sessionCert('sess-os-user', spec.expiresAt), {
      clientOsUser: 'ann',
      clientPid: 4242,
      clientProcess: 'psql',
    });
    const c = new pg.Client({ host: '127.0.0.1', port: client.port, user: 'x', database: 'postgres', ssl: false });
    await c.connect();
    await c.query('select 1');
    await c.end();
    await until(() => [...cp.stored.values()].some((e) => e.sessionId === 'sess-os-user' && e.type === 'connect'));
    const connect = [...cp.stored.values()].find((e) => e.sessionId === 'sess-os-user' && e.type === 'connect');
    expect(connect).toMatchObject({ type: 'connect', clientOsUser: 'ann', clientPid: 4242, clientProcess: 'psql' });
    await client.close();
  });
});
