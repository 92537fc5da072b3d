/**
 * Test fixture: the far side of `openStream`, built from real parts. Each stream is a real
 * TCP socket to a small gateway that terminates the end-to-end TLS (CA-issued certificates,
 * client cert required) and serves it with the real `serveClientStream` against a real
 * PostgreSQL, with the real recorder attached; cancel streams go out with `sendCancel`.
 */
import { connect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readStartupPacket } from '../protocol/startup.ts';
import { createRecorder } from '../recorder/recorder.ts';
import type { UnsequencedSessionEvent } from '../recorder/events.ts';
import { CertificateAuthority } from '../tls/ca.ts';
import { identityUri } from '../tls/identity.ts';
import { generateKeyPair } from '../tls/keys.ts';
import { peerIdentity, serverTlsOptionsForSessions } from '../tls/tls-options.ts';
import { acceptSessionTls } from '../tls/session-tls.ts';
import type { Mux } from '../tunnel/mux.ts';
import type { StreamOpenMeta } from '../tunnel/meta.ts';
import { sendCancel } from '../upstream/cancel.ts';
import { serveClientStream } from '../upstream/serve.ts';
import type { UpstreamTarget } from '../upstream/types.ts';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';

export interface TestGateway {
  openStream: (meta: StreamOpenMeta) => Duplex;
  /** Session TLS identity for LocalProxy's `tls` option. */
  tls: { keyPem: string; certPem: string; caPem: string; gatewayId: string };
  metas: StreamOpenMeta[];
  /** Serve the streams a real Mux receives (the gateway end of a tunnel). */
  serveMux(mux: Mux): void;
  events: UnsequencedSessionEvent[];
  /** 'reset': streams are cut right after they open (before the server answers). */
  mode: 'serve' | 'reset';
  close(): Promise<void>;
}

export async function startTestGateway(target: UpstreamTarget, sessionId = 'sess1'): Promise<TestGateway> {
  const ca = await CertificateAuthority.create({ commonName: 'test CA' });
  const notAfter = new Date(Date.now() + 3600_000);
  const gwKeys = generateKeyPair();
  const gwCert = await ca.issue({
    publicKeyPem: gwKeys.publicKeyPem,
    commonName: 'gateway',
    uri: identityUri({ kind: 'gateway', id: 'gw1' }),
    notAfter,
    usage: 'server',
  });
  const sessKeys = generateKeyPair();
  const sessCert = await ca.issue({
    publicKeyPem: sessKeys.publicKeyPem,
    commonName: 'session',
    uri: identityUri({ kind: 'session', id: sessionId }),
    notAfter,
    usage: 'client',
  });
  const sockets = new Set<Socket | TLSSocket>();
  const gw: TestGateway = {
    openStream: (meta) => {
      gw.metas.push(meta);
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      return s;
    },
    tls: { keyPem: sessKeys.privateKeyPem, certPem: sessCert, caPem: ca.certPem, gatewayId: 'gw1' },
    metas: [],
    serveMux: (mux) => {
      mux.on('stream', (stream: Duplex, meta: Record<string, unknown>) => {
        gw.metas.push(meta as StreamOpenMeta);
        acceptSessionTls(stream, { ...serverIdentity, expectedSessionId: sessionId })
          .then(({ socket }) => serve(socket, meta as StreamOpenMeta))
          .catch(() => stream.destroy());
      });
    },
    events: [],
    mode: 'serve',
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  let connections = 0;
  const serve = (tls: Duplex, meta: StreamOpenMeta | undefined): void => {
    if (meta?.kind === 'cancel') return void serveCancel(tls, target);
    const rec = createRecorder({ sessionId, connectionId: `c${++connections}`, emit: (e) => gw.events.push(e) });
    serveClientStream(tls, target, {
      readStartup: true,
      recorderHooks: {
        onClientData: (b) => rec.onClientData(b),
        onServerData: (b) => rec.onServerData(b),
        onConnect: (info) => rec.onConnect({ backendPid: info.backendKey?.processId }),
        onClose: (r) => rec.onClose(r.by === 'client' || r.by === 'server' ? r.by : 'error', r),
      },
    });
  };
  const serverIdentity = { keyPem: gwKeys.privateKeyPem, certPem: gwCert, caPem: ca.certPem };
  const server: Server = createTlsServer(serverTlsOptionsForSessions(serverIdentity), (tls) => {
    sockets.add(tls);
    tls.on('close', () => sockets.delete(tls));
    tls.on('error', () => undefined);
    const meta = gw.metas[gw.metas.length - 1];
    const who = peerIdentity(tls);
    if (who?.kind !== 'session' || who.id !== sessionId) return void tls.destroy();
    serve(tls, meta);
  });
  // 'reset' mode: cut the TCP connection before TLS
  server.prependListener('connection', (raw: Socket) => {
    raw.on('error', () => undefined);
    if (gw.mode === 'reset') raw.resetAndDestroy();
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return gw;
}

function serveCancel(tls: Duplex, target: UpstreamTarget): void {
  let buf: Buffer = Buffer.alloc(0);
  tls.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const got = readStartupPacket(buf);
    if (!got) return;
    tls.removeAllListeners('data');
    void sendCancel({ host: target.host, port: target.port }, target.ssl, got.packet).finally(() => tls.end());
  });
}

/** A real PostgreSQL (SCRAM) with a `shop` database and a test gateway in front of it as `postgres`. */
export async function startShopGateway(): Promise<{ server: PgServer; gateway: TestGateway }> {
  const server = await startPostgres({ authMethod: 'scram-sha-256' });
  await server.query('CREATE DATABASE shop');
  const gateway = await startTestGateway({
    host: server.host,
    port: server.port,
    database: 'shop',
    username: 'postgres',
    password: server.superuserPassword,
    ssl: { enabled: false, rejectUnauthorized: false },
  });
  return { server, gateway };
}
