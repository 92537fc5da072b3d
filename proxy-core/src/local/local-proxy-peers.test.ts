/**
 * Issue 10 item 4: the local proxy serves only the OS user who started the access (Linux:
 * /proc/net/tcp{,6}), records who connected, and offers a per-session local password for
 * shared machines.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PgServer } from '../../../test/fixtures/postgres.ts';
import { LocalProxy, type LocalProxyOptions } from './local-proxy.ts';
import { generateLocalPassword } from './local-password.ts';
import { parseEndpoint, sameUserPeerCheck } from './peer-identity.ts';
import { startShopGateway, type TestGateway } from './test-gateway.fixture.ts';

const run = promisify(execFile);
const OTHER_USER = 'gatehouse-peer';
const canSwitchUser = process.platform === 'linux' && process.getuid?.() === 0;

let server: PgServer;
let gateway: TestGateway;
const proxies: LocalProxy[] = [];

beforeAll(async () => {
  ({ server, gateway } = await startShopGateway());
  if (canSwitchUser) {
    const exists = await run('id', ['-u', OTHER_USER]).then(
      () => true,
      () => false,
    );
    if (!exists) await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER]);
  }
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function startProxy(overrides: Partial<LocalProxyOptions> = {}): Promise<number> {
  const proxy = new LocalProxy({
    port: 0,
    database: 'shop',
    openStream: (meta) => gateway.openStream(meta),
    tls: gateway.tls,
    expiresAt: new Date(Date.now() + 3600_000),
    ...overrides,
  });
  proxies.push(proxy);
  return proxy.listen();
}

/** A dependency-free PG client (node builtins only) that prints the first ErrorResponse's fields as JSON. */
const RAW_CLIENT = `
const net = require('node:net');
const [port] = process.argv.slice(1);
const params = Buffer.from('user\\0someone\\0database\\0shop\\0\\0');
const startup = Buffer.alloc(8 + params.length);
startup.writeInt32BE(startup.length, 0); startup.writeInt32BE(196608, 4); params.copy(startup, 8);
const s = net.connect(Number(port), '127.0.0.1', () => s.write(startup));
let buf = Buffer.alloc(0);
s.on('data', (c) => {
  buf = Buffer.concat([buf, c]);
  while (buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1)) {
    const code = String.fromCharCode(buf[0]); const body = buf.subarray(5, 1 + buf.readInt32BE(1)); buf = buf.subarray(1 + buf.readInt32BE(1));
    if (code !== 'E') { console.log(JSON.stringify({ got: code })); s.destroy(); return; }
    const fields = {}; let i = 0;
    while (i < body.length && body[i] !== 0) { const end = body.indexOf(0, i + 1); fields[String.fromCharCode(body[i])] = body.subarray(i + 1, end).toString(); i = end + 1; }
    console.log(JSON.stringify(fields)); s.destroy(); return;
  }
});
s.on('error', (e) => console.log(JSON.stringify({ error: e.message })));
`;

async function rawClientAs(user: string, port: number): Promise<Record<string, string>> {
  const { stdout } = await run('runuser', ['-u', user, '--', process.execPath, '-e', RAW_CLIENT, String(port)], { timeout: 20_000 });
  return JSON.parse(stdout.trim()) as Record<string, string>;
}

describe.skipIf(!canSwitchUser)('issue 10 item 4: the local proxy refuses other OS users (Linux, needs root to run a client as a second user)', () => {
  it('a client run as another OS user gets FATAL 28000 saying why, and nothing reaches the gateway', async () => {
    const port = await startProxy();
    const streamsBefore = gateway.metas.length;
    const fields = await rawClientAs(OTHER_USER, port);
    expect(fields).toMatchObject({ S: 'FATAL', C: '28000' });
    expect(fields.M).toContain(`connection comes from OS user "${OTHER_USER}"`);
    expect(fields.M).toContain('belongs to OS user "root"');
    expect(gateway.metas.length).toBe(streamsBefore);
  });

  it('the OS user who started the access connects, and the connect event names its OS user and process', async () => {
    const port = await startProxy();
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'whoever', database: 'shop', ssl: false });
    await client.connect();
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await client.end();
    expect(gateway.metas.at(-1)).toMatchObject({
      kind: 'pg',
      clientOsUser: 'root',
      clientPid: process.pid,
      clientProcess: expect.stringMatching(/node|vitest/),
    });
  });

  it('psql run as the same user reports psql as the process', async () => {
    const port = await startProxy();
    const { stdout } = await run('psql', ['-X', '-At', `host=127.0.0.1 port=${port} user=x dbname=shop sslmode=disable`, '-c', 'select 40 + 2'], {
      env: { ...process.env, PGPASSWORD: '' },
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('42');
    expect(gateway.metas.at(-1)).toMatchObject({ clientOsUser: 'root', clientProcess: 'psql', clientPid: expect.any(Number) });
  });
});

describe('issue 10 item 4: per-session local password for shared machines', () => {
  it('asks every client for the generated password (SCRAM); a wrong one gets 28P01 and reaches nothing', async () => {
    const password = generateLocalPassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const port = await startProxy({ localPassword: password });
    const streamsBefore = gateway.metas.length;
    const wrong = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'shop', password: 'not-it', ssl: false });
    const err = (await wrong.connect().then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; message?: string };
    expect(err?.code).toBe('28P01');
    expect(err?.message).toMatch(/password authentication failed for this Gatehouse session/);
    expect(gateway.metas.length).toBe(streamsBefore);

    const right = new pg.Client({ connectionString: `postgres://x:${password}@127.0.0.1:${port}/shop?sslmode=disable` });
    await right.connect();
    expect((await right.query('select current_database() as db')).rows).toEqual([{ db: 'shop' }]);
    await right.end();

    // psql with the URL the CLI prints, over local TLS too.
    const { stdout } = await run('psql', ['-X', '-At', `postgres://x:${password}@127.0.0.1:${port}/shop?sslmode=require`, '-c', 'select 7'], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('7');
  });
});

describe('issue 10 item 4: reading the socket owner from /proc/net/tcp{,6}', () => {
  it('decodes IPv4, IPv4-mapped and IPv6 loopback endpoints', () => {
    expect(parseEndpoint('0100007F:1F90')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(parseEndpoint('0000000000000000FFFF00000100007F:1F90')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(parseEndpoint('00000000000000000000000001000000:0016')).toEqual({ address: '::1', port: 22 });
  });

  it('refuses the connection when the row of its client socket belongs to another uid, allows its own (any OS, via a /proc copy)', async () => {
    const proc = await mkdtemp(join(tmpdir(), 'gatehouse-proc-'));
    await mkdir(join(proc, 'net'));
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    const socket = await accepted;
    const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
    const row = (uid: number) =>
      `   0: 0100007F:${hex(socket.remotePort!)} 0100007F:${hex(socket.localPort!)} 01 00000000:00000000 00:00000000 00000000 ${uid} 0 999999 1 0000000000000000 20 4 30 10 -1\n`;
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    try {
      await writeFile(join(proc, 'net/tcp'), header + row(54321));
      const other = await sameUserPeerCheck({ procRoot: proc, uid: 1000 })(socket);
      expect(other).toMatchObject({ allowed: false, peer: { uid: 54321 }, reason: expect.stringContaining('uid 54321') });
      await writeFile(join(proc, 'net/tcp'), header + row(1000));
      expect(await sameUserPeerCheck({ procRoot: proc, uid: 1000 })(socket)).toMatchObject({ allowed: true, peer: { uid: 1000 } });
      await writeFile(join(proc, 'net/tcp'), header);
      expect(await sameUserPeerCheck({ procRoot: proc, uid: 1000 })(socket)).toMatchObject({ allowed: false, reason: expect.stringMatching(/could not tell/) });
    } finally {
      client.destroy();
      socket.destroy();
      server.close();
      await rm(proc, { recursive: true, force: true });
    }
  });
});
