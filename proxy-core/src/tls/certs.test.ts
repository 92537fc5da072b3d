import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateAuthority,
  clientTlsOptionsForGateway,
  createSelfSignedCertificate,
  generateKeyPair,
  identityFromCertificate,
  identityUri,
  peerIdentity,
  serverTlsOptionsForSessions,
} from './certs.ts';
import { ErrorCodes } from '../errors.ts';

const HOUR = 3_600_000;

interface Party {
  keyPem: string;
  certPem: string;
}

async function issueParty(ca: CertificateAuthority, kind: 'gateway' | 'session', id: string, opts: { notAfter?: Date; notBefore?: Date } = {}): Promise<Party> {
  const { publicKeyPem, privateKeyPem } = generateKeyPair();
  const certPem = await ca.issue({
    publicKeyPem,
    commonName: `${kind} ${id}`,
    uri: identityUri({ kind, id }),
    notAfter: opts.notAfter ?? new Date(Date.now() + HOUR),
    notBefore: opts.notBefore,
    usage: kind === 'gateway' ? 'server' : 'client',
  });
  return { keyPem: privateKeyPem, certPem };
}

const servers: tls.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TLS echo server with the gateway options; resolves with its port and the identities it saw. */
async function startGatewayServer(ca: CertificateAuthority, gateway: Party) {
  const seen: ({ kind: string; id: string } | undefined)[] = [];
  const server = tls.createServer(serverTlsOptionsForSessions({ ...gateway, caPem: ca.certPem }), (socket) => {
    seen.push(peerIdentity(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.on('tlsClientError', () => {});
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, seen };
}

/** Connects, sends "ping" and resolves with what came back, or rejects with the TLS error. */
function roundTrip(options: tls.ConnectionOptions): Promise<{ echoed: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', ...options });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => socket.write('ping'));
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data === 'ping') {
        socket.end();
        resolve({ echoed: data, alpn: socket.alpnProtocol });
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before echo (got ${JSON.stringify(data)})`)));
  });
}

describe('tls helpers', () => {
  let ca: CertificateAuthority;
  let gateway: Party;
  let session: Party;

  beforeAll(async () => {
    ca = await CertificateAuthority.create({ commonName: 'Gatehouse test CA' });
    gateway = await issueParty(ca, 'gateway', 'gw-1');
    session = await issueParty(ca, 'session', 'sess-1');
  });

  it('generates P-256 keys as SPKI / PKCS#8 PEM', () => {
    const { publicKeyPem, privateKeyPem } = generateKeyPair();
    expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('issues certificates node can parse, with the identity URI and validity asked for', async () => {
    const notAfter = new Date(Date.now() + 2 * HOUR);
    const { publicKeyPem } = generateKeyPair();
    const pem = await ca.issue({ publicKeyPem, commonName: 'x', uri: 'gatehouse://session/abc-123', notAfter, usage: 'client' });
    const cert = new X509Certificate(pem);
    expect(cert.subjectAltName).toBe('URI:gatehouse://session/abc-123');
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(Math.abs(new Date(cert.validTo).getTime() - notAfter.getTime())).toBeLessThan(1000);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
    expect(identityFromCertificate(pem)).toEqual({ kind: 'session', id: 'abc-123' });
    expect(identityFromCertificate(cert.raw)).toEqual({ kind: 'session', id: 'abc-123' });
  });

  it('identityFromCertificate is undefined for certs without a gatehouse URI and for garbage', async () => {
    const { certPem } = await createSelfSignedCertificate({ commonName: 'localhost', altNames: ['localhost', '127.0.0.1', '::1'] });
    expect(new X509Certificate(certPem).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(identityFromCertificate(certPem)).toBeUndefined();
    expect(identityFromCertificate(Buffer.from('not a certificate'))).toBeUndefined();
    const { publicKeyPem } = generateKeyPair();
    const other = await ca.issue({ publicKeyPem, commonName: 'x', uri: 'https://example.com/gateway/1', notAfter: new Date(Date.now() + HOUR), usage: 'both' });
    expect(identityFromCertificate(other)).toBeUndefined();
  });

  it('loads a CA from PEM and refuses a key that does not belong to it', async () => {
    const loaded = CertificateAuthority.load({ certPem: ca.certPem, keyPem: ca.keyPem });
    const party = await issueParty(loaded, 'session', 's-2');
    expect(new X509Certificate(party.certPem).checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(() => CertificateAuthority.load({ certPem: ca.certPem, keyPem: generateKeyPair().privateKeyPem })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_INPUT }),
    );
  });

  it('rejects non-P-256 public keys', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await expect(ca.issue({ publicKeyPem: publicKey, commonName: 'x', notAfter: new Date(Date.now() + HOUR), usage: 'client' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
    });
  });

  it('completes a mutual TLS handshake: session client ↔ gateway server, ALPN gatehouse-pg', async () => {
    const { port, seen } = await startGatewayServer(ca, gateway);
    const result = await roundTrip({ port, ...clientTlsOptionsForGateway({ ...session, caPem: ca.certPem, gatewayId: 'gw-1' }) });
    expect(result).toEqual({ echoed: 'ping', alpn: 'gatehouse-pg' });
    expect(seen).toEqual([{ kind: 'session', id: 'sess-1' }]);
  });

  it('client refuses a gateway with another id', async () => {
    const { port } = await startGatewayServer(ca, gateway);
    await expect(roundTrip({ port, ...clientTlsOptionsForGateway({ ...session, caPem: ca.certPem, gatewayId: 'gw-2' }) })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('client refuses a session certificate presented where a gateway certificate is expected', async () => {
    const impostor = await issueParty(ca, 'session', 'gw-1');
    const { port } = await startGatewayServer(ca, {
      keyPem: impostor.keyPem,
      certPem: await ca.issue({
        publicKeyPem: (await import('node:crypto')).createPublicKey(impostor.keyPem).export({ type: 'spki', format: 'pem' }) as string,
        commonName: 'impostor',
        uri: identityUri({ kind: 'session', id: 'gw-1' }),
        notAfter: new Date(Date.now() + HOUR),
        usage: 'both',
      }),
    });
    await expect(roundTrip({ port, ...clientTlsOptionsForGateway({ ...session, caPem: ca.certPem, gatewayId: 'gw-1' }) })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('client refuses a gateway certificate from another CA', async () => {
    const otherCa = await CertificateAuthority.create({ commonName: 'Other CA' });
    const rogue = await issueParty(otherCa, 'gateway', 'gw-1');
    const { port } = await startGatewayServer(otherCa, rogue);
    await expect(roundTrip({ port, ...clientTlsOptionsForGateway({ ...session, caPem: ca.certPem, gatewayId: 'gw-1' }) })).rejects.toMatchObject({
      code: expect.stringMatching(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/),
    });
  });

  it('server refuses a client certificate from another CA, an expired one, a gateway cert, and none', async () => {
    const { port, seen } = await startGatewayServer(ca, gateway);
    const otherCa = await CertificateAuthority.create({ commonName: 'Other CA' });
    const foreign = await issueParty(otherCa, 'session', 'sess-1');
    const expired = await issueParty(ca, 'session', 'sess-1', { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) });
    const clientOpts = (p: Party) => ({ port, ...clientTlsOptionsForGateway({ ...p, caPem: ca.certPem, gatewayId: 'gw-1' }) });
    await expect(roundTrip(clientOpts(foreign))).rejects.toThrow();
    await expect(roundTrip(clientOpts(expired))).rejects.toThrow();
    await expect(roundTrip(clientOpts(gateway))).rejects.toThrow(); // serverAuth-only cert used as a client cert
    // A client with no certificate at all: same trust and checks, but a context without a key pair.
    const { secureContext: _sc, ...anonymous } = clientOpts(session);
    await expect(roundTrip({ ...anonymous, ca: [ca.certPem] })).rejects.toThrow();
    expect(seen).toEqual([]);
  });

  it('client refuses an expired gateway certificate', async () => {
    const expiredGateway = await issueParty(ca, 'gateway', 'gw-1', { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) });
    const { port } = await startGatewayServer(ca, expiredGateway);
    await expect(roundTrip({ port, ...clientTlsOptionsForGateway({ ...session, caPem: ca.certPem, gatewayId: 'gw-1' }) })).rejects.toMatchObject({
      code: 'CERT_HAS_EXPIRED',
    });
  });

  it('a self-signed certificate serves TLS to a client that pins it', async () => {
    const self = await createSelfSignedCertificate({ commonName: 'localhost', altNames: ['localhost', '127.0.0.1'], days: 1 });
    const server = tls.createServer({ key: self.keyPem, cert: self.certPem }, (s) => s.pipe(s));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    await expect(roundTrip({ port, ca: self.certPem, servername: 'localhost' })).resolves.toMatchObject({ echoed: 'ping' });
    await expect(roundTrip({ port, ca: self.certPem })).resolves.toMatchObject({ echoed: 'ping' }); // IP SAN 127.0.0.1
  });

  it('issueServerCertificate gives a key + cert a TLS server can use with DNS and IP names', async () => {
    const pair = await ca.issueServerCertificate({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const server = tls.createServer({ key: pair.keyPem, cert: pair.certPem }, (s) => s.pipe(s));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    await expect(roundTrip({ port, ca: ca.certPem, servername: 'localhost' })).resolves.toMatchObject({ echoed: 'ping' });
  });
});
