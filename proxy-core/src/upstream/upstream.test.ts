import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { BackendCode, PROTOCOL_3_0, PROTOCOL_3_2 } from '../protocol/constants.ts';
import { createCancelRequest } from '../protocol/startup.ts';
import { parseNegotiateProtocolVersion } from '../protocol/backend/negotiate-protocol-version.ts';
import { createAuthenticationCleartextPassword, createAuthenticationMD5Password } from '../protocol/backend/authentication.ts';
import { connectUpstream } from './connect.ts';
import { serveClientStream, type ClientStreamHandle, type CloseReason, type ServeClientStreamOptions } from './serve.ts';
import { sendCancel } from './cancel.ts';
import { RawPgClient } from './test-client.ts';
import { createTestCertificates, type TestCertificates } from './test-certs.ts';
import type { UpstreamTarget } from './types.ts';
import { UpstreamError } from './upstream-error.ts';

const ACCOUNT = 'app_reader';
const PASSWORD = 'correct horse ✓ battery';

let scram: PgServer;
let md5: PgServer;
let cleartext: PgServer;
let tlsPg: PgServer;
let certs: TestCertificates;
const servers: Server[] = [];

beforeAll(async () => {
  certs = createTestCertificates();
  [scram, md5, cleartext, tlsPg] = await Promise.all([
    startPostgres({ authMethod: 'scram-sha-256' }),
    startPostgres({ authMethod: 'md5' }),
    startPostgres({ authMethod: 'password', tls: { certPem: certs.certPem, keyPem: certs.keyPem } }),
    startPostgres({ authMethod: 'scram-sha-256', tls: { certPem: certs.certPem, keyPem: certs.keyPem } }),
  ]);
  await Promise.all([scram, md5, cleartext, tlsPg].map((pg) => pg.createRole(ACCOUNT, PASSWORD)));
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.close();
  await Promise.all([scram, md5, cleartext, tlsPg].map((pg) => pg?.stop()));
});

function target(pg: PgServer, overrides: Partial<UpstreamTarget> = {}): UpstreamTarget {
  return {
    host: pg.host,
    port: pg.port,
    database: 'postgres',
    username: ACCOUNT,
    password: PASSWORD,
    ssl: { enabled: false, rejectUnauthorized: true },
    ...overrides,
  };
}

const CLIENT_PARAMS = { user: 'someone-else', database: 'ignored', application_name: 'gatehouse-test' };

/** A client on a real TCP socket, served by serveClientStream on the other end. */
async function through(
  t: UpstreamTarget,
  opts: Partial<ServeClientStreamOptions> = {},
): Promise<{ client: RawPgClient; handle: ClientStreamHandle; serverSide: Socket }> {
  const server = createServer({ allowHalfOpen: true }); // like a MuxStream
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<{ handle: ClientStreamHandle; serverSide: Socket }>((resolve) =>
    server.once('connection', (sock) => resolve({ handle: serveClientStream(sock, t, { readStartup: true, ...opts }), serverSide: sock })),
  );
  const sock = connect(port, '127.0.0.1');
  const client = new RawPgClient(sock);
  const { handle, serverSide } = await accepted;
  return { client, handle, serverSide };
}

describe('serveClientStream against real PostgreSQL', () => {
  it('scram-sha-256: the client gets AuthenticationOk…ReadyForQuery and runs queries as the account', async () => {
    const seenClient: Buffer[] = [];
    const closes: CloseReason[] = [];
    let connected = 0;
    const { client, handle } = await through(target(scram), {
      recorderHooks: { onClientData: (b) => seenClient.push(b), onConnect: () => connected++, onClose: (r) => closes.push(r) },
    });
    const { messages, error } = await client.startup(CLIENT_PARAMS);
    expect(error).toBeUndefined();
    expect(messages[0].code).toBe(BackendCode.Authentication);
    expect(messages[0].payload.readInt32BE(0)).toBe(0); // AuthenticationOk, never a password challenge
    expect(messages.at(-1)?.code).toBe(BackendCode.ReadyForQuery);
    expect(client.parameters.server_version).toMatch(/^18/);
    expect(client.backendKey?.secretKey.length).toBe(4);

    const r = await client.query("select current_user, current_database(), current_setting('application_name')");
    expect(r.rows).toEqual([[ACCOUNT, 'postgres', 'gatehouse-test']]);
    expect((await handle.ready).authMethod).toBe('SCRAM-SHA-256');
    expect(connected).toBe(1);
    expect(Buffer.concat(seenClient).toString()).toContain('select current_user');

    client.stream.end();
    const reason = await handle.closed;
    expect(reason.by).toBe('client');
    expect(closes).toHaveLength(1);
  });

  it('md5 and cleartext password servers', async () => {
    // Each resource explicitly allows the weaker method; cleartext only over verified TLS (issue 10 item 2).
    const allowed = {
      md5: target(md5, { authMethods: { md5: true, cleartext: false } }),
      cleartext: target(cleartext, { authMethods: { md5: false, cleartext: true }, ssl: { enabled: true, rejectUnauthorized: true, ca: certs.caPem } }),
    };
    for (const [t, method] of [
      [allowed.md5, 'md5'],
      [allowed.cleartext, 'cleartext'],
    ] as const) {
      const conn = await connectUpstream(t, { protocolVersion: PROTOCOL_3_0, parameters: {}, protocolOptions: {} });
      expect(conn.authMethod).toBe(method);
      expect(conn.startupReply.at(-6)).toBe(BackendCode.ReadyForQuery);
      conn.socket.destroy();
      const { client } = await through(t);
      await client.startup(CLIENT_PARAMS);
      expect((await client.query('select current_user')).rows).toEqual([[ACCOUNT]]);
      client.stream.end();
    }
  });

  it('wrong password: the server 28P01 reaches the client as a FATAL ErrorResponse', async () => {
    const { client, handle } = await through(target(scram, { password: 'wrong' }));
    const { error } = await client.startup(CLIENT_PARAMS);
    expect(error).toMatchObject({ severity: 'FATAL', code: '28P01' });
    expect(error?.message).toMatch(/password authentication failed/);
    await expect(handle.ready).rejects.toMatchObject({ sqlstate: '28P01', code: 'GATEHOUSE_ERR_UPSTREAM_AUTH' });
    expect(await client.next()).toBeUndefined(); // then the stream ends
    expect((await handle.closed).by).toBe('connect-failed');
  });

  it('md5 server with a wrong password, and an unknown database (3D000)', async () => {
    const bad = connectUpstream(target(md5, { password: 'nope', authMethods: { md5: true, cleartext: false } }), {
      protocolVersion: PROTOCOL_3_0,
      parameters: {},
      protocolOptions: {},
    });
    await expect(bad).rejects.toMatchObject({ sqlstate: '28P01' });
    const { client } = await through(target(scram, { database: 'nosuchdb' }));
    const { error } = await client.startup(CLIENT_PARAMS);
    expect(error).toMatchObject({ code: '3D000', severity: 'FATAL' });
  });

  it('refuses replication connections with 0A000', async () => {
    const { client } = await through(target(scram));
    const { error } = await client.startup({ ...CLIENT_PARAMS, replication: 'database' });
    expect(error).toMatchObject({ code: '0A000' });
  });

  it('connection refused: 08001 naming host:port', async () => {
    const closedPort = 1; // nothing listens on port 1
    const err = await connectUpstream(target(scram, { port: closedPort }), { protocolVersion: PROTOCOL_3_0, parameters: {}, protocolOptions: {} }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ sqlstate: '08001', code: 'GATEHOUSE_ERR_UPSTREAM_CONNECT' });
    expect(err.message).toContain(`127.0.0.1:${closedPort}`);
  });
});

describe('client stream edge cases', () => {
  it('garbage or an oversized startup packet: 08P01 ErrorResponse, then the stream closes', async () => {
    for (const bytes of [Buffer.from([0, 0, 0x30, 0, 0, 3, 0, 0]), Buffer.from([0, 0, 0, 9, 0, 2, 0, 0, 0]), Buffer.from('GET / HTTP/1.1\r\n\r\n')]) {
      const { client, handle } = await through(target(scram));
      client.stream.write(bytes);
      const m = await client.next();
      expect(m?.code).toBe(BackendCode.ErrorResponse);
      expect(m?.payload.toString()).toContain('08P01');
      expect(await client.next()).toBeUndefined();
      expect(await handle.closed).toMatchObject({ by: 'connect-failed', sqlstate: '08P01' });
    }
  });

  it('half-close: a client that sends a query and then FIN still gets the whole result', async () => {
    const { client, handle } = await through(target(scram));
    await client.startup(CLIENT_PARAMS);
    client.sendQuery('select count(*) from generate_series(1, 1000)');
    client.stream.end();
    const r = await client.readResult();
    expect(r.rows).toEqual([['1000']]);
    expect(await client.next()).toBeUndefined();
    expect((await handle.closed).by).toBe('client');
  });

  it('recorder hooks see exactly the bytes forwarded, as the same Buffers', async () => {
    const fromServer: Buffer[] = [];
    let received = Buffer.alloc(0);
    const { client, handle } = await through(target(scram), { recorderHooks: { onServerData: (b) => fromServer.push(b) } });
    client.stream.on('data', (b: Buffer) => (received = Buffer.concat([received, b])));
    await client.startup(CLIENT_PARAMS);
    await client.query("select string_agg(md5(i::text), '') from generate_series(1, 5000) i");
    const t0 = Date.now();
    client.stream.end();
    await handle.closed;
    expect(Date.now() - t0).toBeLessThan(500);
    expect(Buffer.concat(fromServer)).toEqual(received);
    expect(handle.stats().bytesOut).toBe(received.length);
  });
});

describe('TLS to the database', () => {
  const startup = { protocolVersion: PROTOCOL_3_0, parameters: {}, protocolOptions: {} };

  it('verifies the chain with the resource CA and uses SCRAM-SHA-256-PLUS', async () => {
    const t = target(tlsPg, { ssl: { enabled: true, rejectUnauthorized: true, ca: certs.caPem } });
    const { client, handle } = await through(t);
    await client.startup(CLIENT_PARAMS);
    const r = await client.query('select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()');
    expect(r.rows).toEqual([[ACCOUNT, 't']]);
    expect((await handle.ready).authMethod).toBe('SCRAM-SHA-256-PLUS');
    client.stream.end();
  });

  it('refuses a certificate from an unknown CA with a clear error', async () => {
    const t = target(tlsPg, { ssl: { enabled: true, rejectUnauthorized: true } });
    const { client } = await through(t);
    const { error } = await client.startup(CLIENT_PARAMS);
    expect(error?.code).toBe('08001');
    expect(error?.message).toMatch(/not trusted/);
    expect(error?.hint).toMatch(/CA certificate/);
    const other = createTestCertificates();
    const err = await connectUpstream(target(tlsPg, { ssl: { enabled: true, rejectUnauthorized: true, ca: other.caPem } }), startup).catch((e) => e);
    expect(err).toMatchObject({ code: 'GATEHOUSE_ERR_UPSTREAM_TLS', sqlstate: '08001' });
  });

  it('connects without verification when rejectUnauthorized is off', async () => {
    const conn = await connectUpstream(target(tlsPg, { ssl: { enabled: true, rejectUnauthorized: false } }), startup);
    expect(conn.authMethod).toBe('SCRAM-SHA-256-PLUS');
    conn.socket.destroy();
  });

  it('TLS required but the server has none: clear error, never plaintext', async () => {
    const { client } = await through(target(scram, { ssl: { enabled: true, rejectUnauthorized: true } }));
    const { error } = await client.startup(CLIENT_PARAMS);
    expect(error).toMatchObject({ code: '08001', severity: 'FATAL' });
    expect(error?.message).toMatch(/does not accept TLS but the resource requires it/);
  });
});

describe('cancel, protocol 3.2 and terminate', () => {
  it('sendCancel stops select pg_sleep(30) within a second', async () => {
    const { client, handle } = await through(target(tlsPg, { ssl: { enabled: true, rejectUnauthorized: true, ca: certs.caPem } }));
    await client.startup(CLIENT_PARAMS);
    const conn = await handle.ready;
    client.sendQuery('select pg_sleep(30)');
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const key = client.backendKey!;
    await sendCancel(
      { host: conn.remoteAddress, port: conn.remotePort, verifyHost: tlsPg.host },
      { enabled: true, rejectUnauthorized: true, ca: certs.caPem },
      createCancelRequest(key.processId, key.secretKey),
    );
    const r = await client.readResult();
    expect(r.error?.code).toBe('57014');
    expect(Date.now() - started).toBeLessThan(1000);
    // the session survives the cancel
    expect((await client.query('select 1')).rows).toEqual([['1']]);
    client.stream.end();
  });

  it('protocol 3.2 against PostgreSQL 18: long cancel key and NegotiateProtocolVersion pass through', async () => {
    const { client } = await through(target(scram));
    const { messages, error } = await client.startup(CLIENT_PARAMS, PROTOCOL_3_2, { '_pq_.no_such_option': 'x' });
    expect(error).toBeUndefined();
    const npv = messages.find((m) => m.code === BackendCode.NegotiateProtocolVersion);
    expect(npv && parseNegotiateProtocolVersion(npv.payload).unrecognizedOptions).toEqual(['_pq_.no_such_option']);
    expect(client.backendKey!.secretKey.length).toBeGreaterThan(4);
    expect((await client.query('select current_user')).rows).toEqual([[ACCOUNT]]);
    client.stream.end();
  });

  it('terminate on an idle session: FATAL 57P01, both sides closed within a second', async () => {
    const { client, handle } = await through(target(scram));
    await client.startup(CLIENT_PARAMS);
    const started = Date.now();
    const reason = await handle.terminate('57P01', 'terminating connection: the access session expired');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(reason).toMatchObject({ by: 'terminated', sqlstate: '57P01' });
    const m = await client.next();
    expect(m?.code).toBe(BackendCode.ErrorResponse);
    expect(await client.next()).toBeUndefined();
  });

  it('terminate while rows stream: the error lands between two whole messages', async () => {
    const { client, handle } = await through(target(scram));
    await client.startup(CLIENT_PARAMS);
    client.sendQuery("select repeat('x', 1000) from generate_series(1, 200000)");
    await client.next(); // RowDescription arrived: rows are flowing
    const started = Date.now();
    await handle.terminate();
    expect(Date.now() - started).toBeLessThan(1500);
    // every message the client framer cut is whole; the last one is our FATAL
    let last;
    for (let m = await client.next(); m; m = await client.next()) last = m;
    expect(last?.code).toBe(BackendCode.ErrorResponse);
    expect(last?.payload.toString()).toContain('57P01');
  });
});

/** A fake server at a host a project admin controls: asks for `request`, records every byte it gets back. */
async function fakeServer(request: Buffer): Promise<{ port: number; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  const server = createServer((sock) => {
    let startupSeen = false;
    let buffered = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (chunk: Buffer) => {
      if (startupSeen) return void chunks.push(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4 || buffered.length < buffered.readUInt32BE(0)) return;
      startupSeen = true;
      const rest = buffered.subarray(buffered.readUInt32BE(0));
      if (rest.length > 0) chunks.push(rest);
      sock.write(request);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, received: () => Buffer.concat(chunks) };
}

const STARTUP = { protocolVersion: PROTOCOL_3_0, parameters: {}, protocolOptions: {} };

describe('issue 10 item 2: the gateway uses SCRAM only unless the resource allows MD5 or cleartext', () => {
  it('a real MD5 server gets no password by default: 28000 naming the setting, and the client sees it as FATAL', async () => {
    await expect(connectUpstream(target(md5), STARTUP)).rejects.toMatchObject({
      sqlstate: '28000',
      code: 'GATEHOUSE_ERR_UNSUPPORTED_AUTH',
      message: expect.stringMatching(/MD5.*does not allow.*sent no password/),
    });
    const { client } = await through(target(md5));
    const { error } = await client.startup(CLIENT_PARAMS);
    expect(error).toMatchObject({ severity: 'FATAL', code: '28000' });
    expect(error?.hint).toMatch(/allowMd5/);
  });

  it('a real cleartext server gets the password only when allowed and over TLS that verifies it', async () => {
    const verified = { enabled: true, rejectUnauthorized: true, ca: certs.caPem };
    await expect(connectUpstream(target(cleartext, { ssl: verified }), STARTUP)).rejects.toMatchObject({
      sqlstate: '28000',
      message: expect.stringMatching(/cleartext/),
    });
    const allow = { md5: false, cleartext: true };
    await expect(connectUpstream(target(cleartext, { authMethods: allow }), STARTUP)).rejects.toMatchObject({
      sqlstate: '28000',
      message: expect.stringMatching(/only over TLS that verifies the server/),
    });
    await expect(connectUpstream(target(cleartext, { authMethods: allow, ssl: { enabled: true, rejectUnauthorized: false } }), STARTUP)).rejects.toMatchObject({
      sqlstate: '28000',
    });
    const ok = await connectUpstream(target(cleartext, { authMethods: allow, ssl: verified }), STARTUP);
    expect(ok.authMethod).toBe('cleartext');
    ok.socket.destroy();
  });

  it('a fake server asking for cleartext or MD5 never receives the password or its hash', async () => {
    const cases: Array<[Buffer, Partial<UpstreamTarget>]> = [
      [createAuthenticationCleartextPassword(), {}],
      [createAuthenticationCleartextPassword(), { authMethods: { md5: true, cleartext: true } }], // allowed, but no verified TLS
      [createAuthenticationMD5Password(Buffer.from([1, 2, 3, 4])), {}],
    ];
    for (const [request, overrides] of cases) {
      const fake = await fakeServer(request);
      const attempt = connectUpstream({ ...target(scram, overrides), port: fake.port }, { ...STARTUP, parameters: { application_name: 'x' } });
      await expect(attempt).rejects.toMatchObject({ sqlstate: '28000', code: 'GATEHOUSE_ERR_UNSUPPORTED_AUTH' });
      await new Promise((r) => setTimeout(r, 50));
      const got = fake.received();
      expect(got.includes(Buffer.from(PASSWORD))).toBe(false);
      expect(got.includes(Buffer.from('md5'))).toBe(false);
      expect(got.length).toBe(0); // no PasswordMessage at all
    }
  });
});
