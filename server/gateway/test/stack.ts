/**
 * A gateway under test: a real relay (its HTTP server on 127.0.0.1), in-memory RelayDeps that
 * verify the gateway's link signature with its certificate, a real PostgreSQL, and a minimal
 * client side (TCP listener → Mux stream → E2E TLS with a session certificate) so any PG
 * driver can connect through the whole path.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { SessionEvent } from '../../../proxy-core/src/recorder/events.ts';
import { CertificateAuthority } from '../../../proxy-core/src/tls/ca.ts';
import { identityUri } from '../../../proxy-core/src/tls/identity.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/keys.ts';
import { clientTlsOptionsForGateway } from '../../../proxy-core/src/tls/tls-options.ts';
import { Mux } from '../../../proxy-core/src/tunnel/mux.ts';
import { Relay } from '../../control/relay/relay.ts';
import type { RelayCluster, RelayDeps } from '../../control/relay/types.ts';
import { saveIdentity, type GatewayIdentity } from '../identity.ts';
import { LinkAuthenticator, memoryLinkNonces } from '../../control/gateway-link-auth.ts';
import { sealToPublicKey, targetPasswordContext } from '../../../proxy-core/src/tunnel/sealed-secret.ts';
import { LINK_CHALLENGE_PATH } from '../link-auth.ts';

export const GATEWAY_ID = 'gw-test';

export interface SessionSpec {
  id: string;
  expiresAt: Date;
  target: { host: string; port: number; database: string; username: string; password: string };
  /** The session's user (ann@example.com by default). */
  userEmail?: string;
  /** Seal the password to this public key instead of the gateway's (a wrong seal). */
  sealTo?: string;
  /** Weaker password methods the resource allows; SCRAM only by default. */
  authMethods?: { md5: boolean; cleartext: boolean };
}

function targetWithout(target: SessionSpec['target']): Omit<SessionSpec['target'], 'password'> {
  const { password: _password, ...rest } = target;
  return rest;
}

export interface ControlPlaneStub {
  url: string;
  port: number;
  relay: Relay;
  /** Events stored, by seq (idempotent like the real store). */
  stored: Map<number, SessionEvent>;
  storeCalls: number;
  close(): Promise<void>;
}

export interface Pki {
  ca: CertificateAuthority;
  gateway: GatewayIdentity;
  sessionCert(sessionId: string, notAfter: Date): Promise<{ keyPem: string; certPem: string }>;
}

export async function createPki(): Promise<Pki> {
  const ca = await CertificateAuthority.create({ commonName: 'test CA' });
  const gwKey = generateKeyPair();
  const gwCert = await ca.issue({
    publicKeyPem: gwKey.publicKeyPem,
    commonName: GATEWAY_ID,
    uri: identityUri({ kind: 'gateway', id: GATEWAY_ID }),
    notAfter: new Date(Date.now() + 86_400_000),
    usage: 'both',
  });
  return {
    ca,
    gateway: { gatewayId: GATEWAY_ID, keyPem: gwKey.privateKeyPem, certPem: gwCert, caPem: ca.certPem },
    async sessionCert(sessionId, notAfter) {
      const key = generateKeyPair();
      const certPem = await ca.issue({
        publicKeyPem: key.publicKeyPem,
        commonName: sessionId,
        uri: identityUri({ kind: 'session', id: sessionId }),
        notAfter,
        usage: 'client',
      });
      return { keyPem: key.privateKeyPem, certPem };
    },
  };
}

export async function gatewayDataDir(pki: Pki): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-gw-'));
  await saveIdentity(dir, pki.gateway);
  return dir;
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** The relay with in-memory deps; `port` reuses a port (control plane restart). */
export async function startControlPlane(
  pki: Pki,
  sessions: Map<string, SessionSpec>,
  port = 0,
  stored = new Map<number, SessionEvent>(),
  cluster?: RelayCluster,
): Promise<ControlPlaneStub> {
  const links = new LinkAuthenticator({
    nonces: memoryLinkNonces(),
    certificateOf: (id) => Promise.resolve(id === GATEWAY_ID ? pki.gateway.certPem : undefined),
  });
  const gatewayKey = new X509Certificate(pki.gateway.certPem).publicKey;
  const stub = { stored, storeCalls: 0 } as ControlPlaneStub;
  const deps: RelayDeps = {
    authenticateGateway: (headers) => links.authenticate(headers),
    // The relay calls this with .then(): a refusal is a rejected promise, as from the real deps.
    authorizeTunnel(sessionId, authorization) {
      const s = sessions.get(sessionId);
      if (authorization !== `Bearer ${sessionId}` || !s) return Promise.reject(new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'no'));
      const expiresAt = s.expiresAt.toISOString();
      return Promise.resolve({
        gatewayId: GATEWAY_ID,
        expiresAt,
        meta: {
          sessionId,
          target: {
            ...targetWithout(s.target),
            passwordSealed: sealToPublicKey(s.target.password, s.sealTo ?? gatewayKey, targetPasswordContext(GATEWAY_ID, sessionId)),
            ssl: { enabled: false, rejectUnauthorized: false },
            authMethods: s.authMethods ?? { md5: false, cleartext: false },
          },
          session: { expiresAt, userEmail: s.userEmail ?? 'ann@example.com', accountName: 'acct', resourceName: 'db' },
          recording: { redactBindParams: true },
        },
      });
    },
    storeEvents(_gatewayId, events) {
      stub.storeCalls += 1;
      for (const e of events) stub.stored.set(e.seq, e);
      return Promise.resolve();
    },
    async setGatewayConnected() {},
  };
  const relay = new Relay(deps, { endGraceMs: 500, ...(cluster && { cluster }) });
  const server: HttpServer = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== LINK_CHALLENGE_PATH) return res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { gatewayId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { gatewayId: string };
      links.issueChallenge(gatewayId).then(
        ({ nonce }) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ nonce })),
        () => res.writeHead(401).end(),
      );
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const m = /^\/api\/v1\/sessions\/([^/]+)\/tunnel$/.exec(path);
    if (path === '/api/v1/gateways/link') void relay.handleGatewayLink(req, socket, head);
    else if (m) void relay.handleSessionTunnel(req, socket, head, m[1]);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  stub.port = (server.address() as AddressInfo).port;
  stub.url = `http://127.0.0.1:${stub.port}`;
  stub.relay = relay;
  stub.close = async () => {
    await relay.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return stub;
}

export interface TestClient {
  port: number;
  controls: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A minimal local proxy: each TCP connection becomes a Mux stream with E2E TLS inside. */
export async function startClient(
  cp: ControlPlaneStub,
  pki: Pki,
  sessionId: string,
  cert: { keyPem: string; certPem: string },
  extraMeta: Record<string, unknown> = {},
): Promise<TestClient> {
  const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/api/v1/sessions/${sessionId}/tunnel`, {
    headers: { authorization: `Bearer ${sessionId}` },
    perMessageDeflate: false,
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const mux = new Mux(ws, { initiator: true });
  const controls: Array<Record<string, unknown>> = [];
  mux.on('control', (m) => controls.push(m));
  const server: NetServer = createNetServer((socket) => {
    const stream = mux.openStream({ kind: 'pg', clientAddress: `${socket.remoteAddress}:${socket.remotePort}`, ...extraMeta });
    const tls = tlsConnect({ socket: stream, ...clientTlsOptionsForGateway({ ...cert, caPem: pki.ca.certPem, gatewayId: GATEWAY_ID }) });
    for (const s of [socket, tls, stream]) s.on('error', () => socket.destroy());
    tls.on('close', () => socket.destroy());
    socket.on('close', () => tls.destroy());
    socket.pipe(tls).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    controls,
    async close() {
      await mux.close();
      await new Promise((r) => server.close(r));
    },
  };
}

export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}
