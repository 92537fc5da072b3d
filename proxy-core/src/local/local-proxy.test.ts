import { execFile } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PgServer } from '../../../test/fixtures/postgres.ts';
import { ErrorCodes } from '../errors.ts';
import { parseErrorFields } from '../protocol/backend/error-response.ts';
import { GSSENC_REQUEST_CODE, PROTOCOL_3_0, SSL_REQUEST_CODE } from '../protocol/constants.ts';
import { MessageFramer } from '../protocol/framing.ts';
import { createStartupMessage } from '../protocol/startup.ts';
import { LocalProxy, type LocalProxyOptions } from './local-proxy.ts';
import { describeTimeLeft } from './client-errors.ts';
import { startShopGateway, type TestGateway } from './test-gateway.fixture.ts';

const run = promisify(execFile);
let server: PgServer;
let gateway: TestGateway;
const proxies: LocalProxy[] = [];

beforeAll(async () => {
  ({ server, gateway } = await startShopGateway());
});
afterAll(async () => {
  await gateway?.close();
  await server?.stop();
});
afterEach(async () => {
  gateway.mode = 'serve';
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function startProxy(overrides: Partial<LocalProxyOptions> = {}): Promise<{ proxy: LocalProxy; port: number }> {
  const proxy = new LocalProxy({
    port: 0,
    database: 'shop',
    openStream: (meta) => gateway.openStream(meta),
    tls: gateway.tls,
    expiresAt: new Date(Date.now() + 3600_000),
    ...overrides,
  });
  proxies.push(proxy);
  return { proxy, port: await proxy.listen() };
}

async function psql(port: number, conninfo: string, sql: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('psql', ['-X', '-At', `host=127.0.0.1 port=${port} ${conninfo}`, '-c', sql], {
      env: { ...process.env, PGPASSWORD: '', PGCONNECT_TIMEOUT: '10' },
      timeout: 20_000,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

function pgClient(port: number, database = 'shop'): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port, user: 'anyone', database, ssl: false });
}

/** Writes `bytes` on a raw socket and collects what the proxy answers until it closes. */
async function rawExchange(port: number, bytes: Buffer[], opts: { waitMs?: number } = {}): Promise<{ data: Buffer; closed: boolean }> {
  const sock = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let closed = false;
  sock.on('data', (c) => chunks.push(c));
  sock.on('error', () => undefined);
  const done = new Promise<void>((resolve) => sock.on('close', () => ((closed = true), resolve())));
  await new Promise((resolve) => sock.once('connect', resolve));
  for (const b of bytes) sock.write(b);
  await Promise.race([done, new Promise((r) => setTimeout(r, opts.waitMs ?? 3000))]);
  sock.destroy();
  return { data: Buffer.concat(chunks), closed };
}

function requestPacket(code: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(code, 4);
  return b;
}

function firstError(data: Buffer): { severity: string; code: string; message: string } | undefined {
  const msgs = new MessageFramer().push(data);
  const e = msgs.find((m) => m.code === 0x45);
  return e && parseErrorFields(e.payload);
}

describe('LocalProxy with real clients', () => {
  it('psql connects with no password, sslmode=disable and sslmode=require', async () => {
    const { proxy, port } = await startProxy();
    const plain = await psql(port, 'dbname=shop user=whoever sslmode=disable', 'SELECT current_database(), current_user');
    expect(plain.stderr).toBe('');
    expect(plain.stdout.trim()).toBe('shop|postgres');
    const tls = await psql(port, 'dbname=shop user=whoever sslmode=require', "SELECT 'over tls'");
    expect(tls.stdout.trim()).toBe('over tls');
    const info = await psql(port, 'dbname=shop user=whoever sslmode=require', '\\conninfo');
    expect(info.stdout).toMatch(/SSL connection \(protocol: TLSv1\.3/);
    expect(info.stdout).toContain('database "shop"');
    expect(proxy.stats().statements).toBe(2); // \conninfo runs no SQL
    expect(gateway.metas.filter((m) => m.kind === 'pg').at(-1)).toMatchObject({ kind: 'pg', clientUser: 'whoever', applicationName: 'psql' });
  });

  it('node-postgres runs simple and extended queries; the gateway records them', async () => {
    const { proxy, port } = await startProxy();
    const c = pgClient(port);
    await c.connect();
    expect((await c.query('SELECT $1::int * 2 AS v', [21])).rows).toEqual([{ v: 42 }]);
    await expect(c.query('SELECT * FROM nowhere')).rejects.toMatchObject({ code: '42P01' });
    await c.end();
    await new Promise((r) => setTimeout(r, 100));
    const sql = gateway.events.filter((e) => e.type === 'statement').map((e) => (e.type === 'statement' ? e.sql : ''));
    expect(sql).toEqual(expect.arrayContaining(['SELECT $1::int * 2 AS v', 'SELECT * FROM nowhere']));
    expect(proxy.stats()).toMatchObject({ connections: 0, statements: 2 });
    expect(proxy.stats().bytesIn).toBeGreaterThan(0);
    expect(proxy.stats().bytesOut).toBeGreaterThan(0);
  });

  it('answers GSSENCRequest with N and keeps reading', async () => {
    const { port } = await startProxy();
    const startup = createStartupMessage(PROTOCOL_3_0, { user: 'x', database: 'shop' });
    const { data } = await rawExchange(port, [requestPacket(GSSENC_REQUEST_CODE), startup], { waitMs: 1500 });
    expect(data[0]).toBe(0x4e); // 'N'
    const msgs = new MessageFramer().push(data.subarray(1));
    expect(msgs[0].code).toBe(0x52); // AuthenticationOk
    expect(msgs[0].payload.readInt32BE(0)).toBe(0);
    expect(msgs.some((m) => m.code === 0x5a)).toBe(true); // ReadyForQuery
  });

  it('answers SSLRequest with N when local TLS is off', async () => {
    const { port } = await startProxy({ localTls: false });
    const { data } = await rawExchange(port, [requestPacket(SSL_REQUEST_CODE)], { waitMs: 300 });
    expect(data.toString()).toBe('N');
    const req = await psql(port, 'user=u sslmode=require', 'SELECT 1');
    expect(req.stderr).toMatch(/server does not support SSL/);
  });

  it('replays a ClientHello sent in the same packet as the SSLRequest', async () => {
    const { port } = await startProxy();
    const raw = connect(port, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    // a TLS client over a Duplex that sends SSLRequest + ClientHello in one write
    const { Duplex } = await import('node:stream');
    let sawS = false;
    const pipe = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        if (!sawS) raw.write(Buffer.concat([requestPacket(SSL_REQUEST_CODE), chunk]), cb);
        else raw.write(chunk, cb);
      },
    });
    raw.on('data', (d: Buffer) => {
      if (!sawS) {
        expect(d[0]).toBe(0x53);
        sawS = true;
        d = d.subarray(1);
      }
      if (d.length) pipe.push(d);
    });
    const tls = tlsConnect({ socket: pipe, rejectUnauthorized: false, ALPNProtocols: ['postgresql'] });
    await new Promise((r, j) => (tls.once('secureConnect', r), tls.once('error', j)));
    tls.write(createStartupMessage(PROTOCOL_3_0, { user: 'x' }));
    const first = await new Promise<Buffer>((r) => tls.once('data', r));
    expect(first[0]).toBe(0x52);
    tls.destroy();
    raw.destroy();
  });

  it('accepts a direct TLS client (ALPN postgresql)', async () => {
    const { port } = await startProxy();
    const tls = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['postgresql'], servername: 'localhost' });
    await new Promise((r, j) => (tls.once('secureConnect', r), tls.once('error', j)));
    expect(tls.getPeerCertificate().subjectaltname).toContain('IP Address:127.0.0.1');
    tls.write(createStartupMessage(PROTOCOL_3_0, { user: 'x', database: 'shop' }));
    const first = await new Promise<Buffer>((r) => tls.once('data', r));
    expect(first[0]).toBe(0x52);
    tls.destroy();
  });

  it('refuses garbage and oversized startup packets with 08P01, and survives', async () => {
    const { port } = await startProxy();
    const garbage = await rawExchange(port, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expect(garbage.closed).toBe(true);
    expect(firstError(garbage.data)).toMatchObject({ severity: 'FATAL', code: '08P01' });
    const big = Buffer.alloc(20_000);
    big.writeInt32BE(20_000, 0);
    big.writeInt32BE(PROTOCOL_3_0, 4);
    const oversized = await rawExchange(port, [big]);
    expect(firstError(oversized.data)).toMatchObject({ code: '08P01', message: expect.stringContaining('10000') });
    const ok = await psql(port, 'dbname=shop user=u sslmode=disable', 'SELECT 7');
    expect(ok.stdout.trim()).toBe('7');
  });

  it('refuses another database with 3D000 naming the session database, and replication with 0A000', async () => {
    const { port } = await startProxy();
    const wrong = await psql(port, 'dbname=other user=u sslmode=disable', 'SELECT 1');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('database "other" is not available in this session; connect to database "shop"');
    const c = pgClient(port, 'other');
    await expect(c.connect()).rejects.toMatchObject({ code: '3D000' });
    const repl = await psql(port, 'dbname=shop user=u sslmode=disable replication=database', 'SELECT 1');
    expect(repl.stderr).toContain('replication connections are not supported through Gatehouse');
  });

  it('forwards cancel requests (postgres.js cancel)', async () => {
    const { port } = await startProxy();
    const sql = postgres({ host: '127.0.0.1', port, user: 'u', database: 'shop', ssl: false, max: 1 });
    try {
      const q = sql`SELECT pg_sleep(20)`;
      const started = Date.now();
      setTimeout(() => q.cancel(), 500);
      await expect(q).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await sql`SELECT 1 AS one`)[0].one).toBe(1); // the session connection survived
    } finally {
      await sql.end();
    }
  });

  it('tells the client what failed when the gateway TLS identity is wrong or the stream is cut', async () => {
    const { port } = await startProxy({ tls: { ...gateway.tls, gatewayId: 'other-gateway' } });
    const c = pgClient(port);
    const err = (await c.connect().catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('08006');
    expect(err.message).toMatch(/end-to-end TLS with the gateway failed.*expected gateway other-gateway/);

    const second = await startProxy();
    gateway.mode = 'reset';
    const cut = await psql(second.port, 'dbname=shop user=u sslmode=disable', 'SELECT 1');
    expect(cut.stderr).toContain('could not reach the database through Gatehouse');
  });

  it('fails with PORT_IN_USE naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    const proxy = new LocalProxy({ port: taken, database: 'shop', openStream: gateway.openStream, tls: gateway.tls, expiresAt: new Date(Date.now() + 60_000) });
    await expect(proxy.listen()).rejects.toMatchObject({ code: ErrorCodes.PORT_IN_USE, message: expect.stringContaining(String(taken)) });
    await proxy.close();
    blocker.close();
  });

  it('warns before expiry, then ends open connections with 57P01 within a second and refuses new ones', async () => {
    const expiresAt = new Date(Date.now() + 2500);
    const { proxy, port } = await startProxy({ expiresAt });
    const c = pgClient(port);
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    const errors: { code?: string; message: string }[] = [];
    c.on('error', (e: Error & { code?: string }) => errors.push(e));
    let endedAt = 0;
    c.on('end', () => (endedAt = Date.now()));
    await c.connect();
    await c.query('SELECT 1');
    await new Promise((r) => setTimeout(r, 300));
    // a 2.5 s session is not "1 minute" from its end
    expect(notices.join()).toMatch(/^Gatehouse session expires in [1-3] seconds? \(at \d\d:\d\d UTC\)$/);
    await new Promise((r) => setTimeout(r, expiresAt.getTime() - Date.now() + 1100));
    expect(errors[0]).toMatchObject({ code: '57P01', message: 'Gatehouse session has expired; run gatehouse db access again' });
    expect(endedAt).toBeGreaterThan(0);
    expect(endedAt - expiresAt.getTime()).toBeLessThan(1000);
    const late = await psql(port, 'user=u sslmode=disable', 'SELECT 1');
    expect(late.stderr).toContain('Gatehouse session has expired; run gatehouse db access again');
    await new Promise((r) => setTimeout(r, 100));
    expect(proxy.stats().connections).toBe(0);
  });

  it('injects "expires in 5 minutes" into an open connection 5 minutes before expiry', async () => {
    const expiresAt = new Date(Date.now() + 5 * 60_000 + 1200);
    const { port } = await startProxy({ expiresAt });
    const c = pgClient(port);
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    await c.connect();
    expect(notices).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500));
    const hhmm = expiresAt.toISOString().slice(11, 16);
    expect(notices).toEqual([`Gatehouse session expires in 5 minutes (at ${hhmm} UTC)`]);
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]); // the stream is intact
    await c.end();
  });

  it('end("revoked") closes a busy connection at a message boundary', async () => {
    const { proxy, port } = await startProxy();
    const c = pgClient(port);
    const errors: { code?: string; message: string }[] = [];
    c.on('error', (e: Error & { code?: string }) => errors.push(e));
    await c.connect();
    const slow = c.query('SELECT g, pg_sleep(0.001) FROM generate_series(1, 3000) g').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    proxy.end('revoked');
    const res = (await slow) as { code?: string; message?: string };
    expect(Date.now() - t0).toBeLessThan(1000);
    expect([res, ...errors]).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: '57P01', message: 'Gatehouse session was revoked by an administrator' })]),
    );
  });

  it('serves 50 concurrent connections; one dying does not affect the others', async () => {
    const { proxy, port } = await startProxy();
    const statsEvents: number[] = [];
    proxy.on('stats', () => statsEvents.push(Date.now()));
    const clients = Array.from({ length: 50 }, () => pgClient(port));
    await Promise.all(clients.map((c) => c.connect()));
    expect(proxy.stats().connections).toBe(50);
    // one client vanishes abruptly mid-query
    const victim = clients.pop()!;
    victim.on('error', () => undefined);
    void victim.query('SELECT pg_sleep(5)').catch(() => undefined);
    (victim as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
    const results = await Promise.all(clients.map((c, i) => c.query('SELECT $1::int AS i, pg_sleep(0.05)', [i])));
    expect(results.map((r) => r.rows[0].i)).toEqual(clients.map((_, i) => i));
    await Promise.all(clients.map((c) => c.end()));
    await new Promise((r) => setTimeout(r, 400));
    expect(proxy.stats().connections).toBe(0);
    const span = (statsEvents.at(-1)! - statsEvents[0]) / 1000;
    expect(statsEvents.length).toBeLessThanOrEqual(Math.ceil(span * 4) + 1);
    const ok = await psql(port, 'dbname=shop user=u sslmode=disable', 'SELECT 1');
    expect(ok.stdout.trim()).toBe('1');
  });

  it('close() is idempotent and stops the listener', async () => {
    const { proxy, port } = await startProxy();
    await Promise.all([proxy.close(), proxy.close()]);
    await proxy.close();
    const sock = connect(port, '127.0.0.1');
    await expect(new Promise((resolve, reject) => (sock.once('connect', resolve), sock.once('error', reject)))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('describeTimeLeft (the expiry notice and desktop warning)', () => {
  it('says minutes from 90 seconds up and seconds below, never "1 minute" for a few seconds', () => {
    expect(describeTimeLeft(5 * 60_000)).toBe('5 minutes');
    expect(describeTimeLeft(90_000)).toBe('2 minutes');
    expect(describeTimeLeft(89_000)).toBe('89 seconds');
    expect(describeTimeLeft(20_000)).toBe('20 seconds');
    expect(describeTimeLeft(400)).toBe('1 second');
    expect(describeTimeLeft(-5)).toBe('1 second');
  });
});
