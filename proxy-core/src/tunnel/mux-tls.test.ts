/** End-to-end TLS inside a MuxStream, exactly as the local proxy and the gateway use it. */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors.ts';
import {
  CertificateAuthority,
  acceptSessionTls,
  clientTlsOptionsForGateway,
  connectGatewayTls,
  generateKeyPair,
  identityUri,
  peerIdentity,
} from '../tls/certs.ts';
import type { MuxStream } from './stream.ts';
import { startMuxPair, type MuxPair } from './test-pair.ts';

const HOUR = 3_600_000;
const pairs: MuxPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.splice(0).map((p) => p.close()));
});

interface Party {
  keyPem: string;
  certPem: string;
}

describe('TLS inside a MuxStream', () => {
  let ca: CertificateAuthority;
  let gateway: Party;
  let session: Party;

  async function issue(kind: 'gateway' | 'session', id: string, authority = ca, expired = false): Promise<Party> {
    const { publicKeyPem, privateKeyPem } = generateKeyPair();
    const certPem = await authority.issue({
      publicKeyPem,
      commonName: id,
      uri: identityUri({ kind, id }),
      notBefore: expired ? new Date(Date.now() - 2 * HOUR) : undefined,
      notAfter: new Date(Date.now() + (expired ? -HOUR : HOUR)),
      usage: kind === 'gateway' ? 'server' : 'client',
    });
    return { keyPem: privateKeyPem, certPem };
  }

  beforeAll(async () => {
    ca = await CertificateAuthority.create({ commonName: 'Gatehouse test CA' });
    gateway = await issue('gateway', 'gw-1');
    session = await issue('session', 'sess-1');
  });

  /** The "gateway": acceptSessionTls on every accepted stream, echoing; records identities and refusals. */
  async function gatewayPair(expectedSessionId = 'sess-1'): Promise<{ pair: MuxPair; identities: unknown[]; refusals: { code: string; message: string }[] }> {
    const pair = await startMuxPair();
    pairs.push(pair);
    const identities: unknown[] = [];
    const refusals: { code: string; message: string }[] = [];
    pair.server.on('stream', (stream: MuxStream) => {
      stream.on('error', () => {});
      acceptSessionTls(stream, { ...gateway, caPem: ca.certPem, expectedSessionId }).then(
        ({ socket, identity }) => {
          identities.push(identity, peerIdentity(socket));
          socket.on('error', () => {});
          socket.pipe(socket);
        },
        (err: { code: string; message: string }) => refusals.push(err),
      );
    });
    return { pair, identities, refusals };
  }

  async function refusedByGateway(client: Party, expectedSessionId = 'sess-1') {
    const { pair, identities, refusals } = await gatewayPair(expectedSessionId);
    const stream = pair.client.openStream({ kind: 'pg', clientAddress: '127.0.0.1:1' });
    stream.on('error', () => {});
    const secure = tls.connect({ socket: stream, ...clientTlsOptionsForGateway({ ...client, caPem: ca.certPem, gatewayId: 'gw-1' }) });
    secure.on('error', () => {});
    secure.write('hello?');
    let echoed = '';
    secure.on('data', (d: Buffer) => (echoed += d.toString()));
    await new Promise((resolve) => secure.on('close', resolve));
    expect(echoed).toBe('');
    expect(identities).toEqual([]);
    expect(refusals).toHaveLength(1);
    return refusals[0];
  }

  it('echoes 8 MB through mutual TLS over the tunnel, and the gateway sees the session identity', async () => {
    const { pair, identities } = await gatewayPair();
    const stream = pair.client.openStream({ kind: 'pg', clientAddress: '127.0.0.1:1' });
    const secure = await connectGatewayTls(stream, { ...session, caPem: ca.certPem, gatewayId: 'gw-1' });
    expect(secure.alpnProtocol).toBe('gatehouse-pg');

    const payload = randomBytes(8 * 1024 * 1024);
    const hash = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((resolve) => {
      secure.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        if (received === payload.length) resolve();
      });
    });
    secure.write(payload);
    await done;
    expect(hash.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(identities).toEqual([
      { kind: 'session', id: 'sess-1' },
      { kind: 'session', id: 'sess-1' },
    ]);
    secure.end();
    await once(secure, 'close');
  }, 30_000);

  it('a second stream resumes the TLS session, and the gateway still checks the session certificate it remembers', async () => {
    const { pair, identities } = await gatewayPair();
    const echo = async (secure: tls.TLSSocket) => {
      secure.write('ping');
      const [reply] = (await once(secure, 'data')) as [Buffer];
      expect(reply.toString()).toBe('ping');
    };
    const first = await connectGatewayTls(pair.client.openStream({ kind: 'pg', clientAddress: '127.0.0.1:1' }), {
      ...session,
      caPem: ca.certPem,
      gatewayId: 'gw-1',
    });
    first.on('error', () => {});
    await echo(first); // a ticket arrives after each handshake
    const second = await connectGatewayTls(pair.client.openStream({ kind: 'pg', clientAddress: '127.0.0.1:2' }), {
      ...session,
      caPem: ca.certPem,
      gatewayId: 'gw-1',
    });
    second.on('error', () => {});
    await echo(second);
    expect(second.isSessionReused()).toBe(true);
    expect(identities).toEqual(Array(4).fill({ kind: 'session', id: 'sess-1' }));
    first.end();
    second.end();
  });

  it('a resumed session of another session id is refused by a gateway expecting a different session', async () => {
    const other = await issue('session', 'sess-resume');
    const { pair } = await gatewayPair('sess-resume');
    const first = await connectGatewayTls(pair.client.openStream({ kind: 'pg', clientAddress: '127.0.0.1:1' }), {
      ...other,
      caPem: ca.certPem,
      gatewayId: 'gw-1',
    });
    first.on('error', () => {});
    first.write('ping');
    await once(first, 'data');
    // The same client (and so the same ticket) now reaches a gateway that expects sess-1.
    const { pair: strict, identities, refusals } = await gatewayPair('sess-1');
    const stream = strict.client.openStream({ kind: 'pg', clientAddress: '127.0.0.1:2' });
    stream.on('error', () => {});
    const resumed = await connectGatewayTls(stream, { ...other, caPem: ca.certPem, gatewayId: 'gw-1' });
    resumed.on('error', () => {});
    expect(resumed.isSessionReused()).toBe(true);
    await new Promise((resolve) => resumed.once('close', resolve));
    expect(identities).toEqual([]);
    expect(refusals[0]?.message).toContain('another session');
    first.end();
  });

  it('the client refuses a gateway with another identity inside the tunnel', async () => {
    const { pair } = await gatewayPair();
    const stream = pair.client.openStream({ kind: 'pg', clientAddress: '127.0.0.1:1' });
    stream.on('error', () => {});
    await expect(connectGatewayTls(stream, { ...session, caPem: ca.certPem, gatewayId: 'gw-other' })).rejects.toMatchObject({
      code: ErrorCodes.UNAUTHENTICATED,
      message: expect.stringContaining('expected gateway gw-other'),
    });
  });

  it('the gateway refuses a session certificate from another CA', async () => {
    const otherCa = await CertificateAuthority.create({ commonName: 'Other CA' });
    const refusal = await refusedByGateway(await issue('session', 'sess-1', otherCa));
    expect(refusal).toMatchObject({ code: ErrorCodes.UNAUTHENTICATED, message: expect.stringContaining('not issued by the Gatehouse CA') });
  });

  it('the gateway refuses an expired session certificate', async () => {
    const refusal = await refusedByGateway(await issue('session', 'sess-1', ca, true));
    expect(refusal.message).toContain('expired');
  });

  it('the gateway refuses a gateway certificate presented as a client certificate', async () => {
    const refusal = await refusedByGateway(gateway);
    expect(refusal.message).toContain('client authentication');
  });

  it("the gateway refuses another session's certificate", async () => {
    const refusal = await refusedByGateway(await issue('session', 'sess-2'));
    expect(refusal.message).toContain('another session');
  });
});
