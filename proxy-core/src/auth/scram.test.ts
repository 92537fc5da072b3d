import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScramClient, SCRAM_SHA_256, SCRAM_SHA_256_PLUS } from './scram.ts';
import { tlsServerEndPoint } from './channel-binding.ts';
import { createTestCertificates } from '../upstream/test-certs.ts';

// RFC 7677 §3 test vector (user "user", password "pencil")
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

function rfcClient(overrides: Partial<ConstructorParameters<typeof ScramClient>[0]> = {}): ScramClient {
  return new ScramClient({ password: 'pencil', mechanism: SCRAM_SHA_256, tls: false, username: 'user', clientNonce: CLIENT_NONCE, ...overrides });
}

describe('SCRAM-SHA-256 client', () => {
  it('reproduces the RFC 7677 test vector and accepts the server signature', async () => {
    const c = rfcClient();
    expect(c.clientFirst().toString()).toBe(`n,,n=user,r=${CLIENT_NONCE}`);
    expect((await c.clientFinal(Buffer.from(SERVER_FIRST))).toString()).toBe(CLIENT_FINAL);
    expect(() => c.verifyServerFinal(Buffer.from(SERVER_FINAL))).not.toThrow();
  });

  it('refuses a wrong server signature and a server error', async () => {
    const c = rfcClient();
    await c.clientFinal(Buffer.from(SERVER_FIRST));
    expect(() => c.verifyServerFinal(Buffer.from('v=' + Buffer.alloc(32).toString('base64')))).toThrow(/server signature is wrong/);
    expect(() => c.verifyServerFinal(Buffer.from('e=invalid-proof'))).toThrow(/invalid-proof/);
  });

  it('uses n=* and a random nonce of 18 bytes by default', () => {
    const first = new ScramClient({ password: 'x', mechanism: SCRAM_SHA_256, tls: false }).clientFirst().toString();
    const m = /^n,,n=\*,r=(.+)$/.exec(first);
    expect(Buffer.from(m![1], 'base64').length).toBe(18);
  });

  it('refuses a server nonce that does not extend ours, and iteration counts out of range', async () => {
    await expect(rfcClient().clientFinal(Buffer.from('r=someoneelse123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'))).rejects.toThrow(/nonce/);
    await expect(rfcClient().clientFinal(Buffer.from(`r=${CLIENT_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`))).rejects.toThrow(/nonce/);
    await expect(rfcClient().clientFinal(Buffer.from(SERVER_FIRST.replace('i=4096', 'i=100001')))).rejects.toThrow(/100001 iterations/);
    await expect(rfcClient().clientFinal(Buffer.from(SERVER_FIRST.replace('i=4096', 'i=0')))).rejects.toThrow(/iterations/);
    await expect(rfcClient({ maxIterations: 1000 }).clientFinal(Buffer.from(SERVER_FIRST))).rejects.toThrow(/allowed 1..1000/);
    await expect(rfcClient().clientFinal(Buffer.from('garbage'))).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_UPSTREAM_AUTH' });
  });

  it('gs2 header: y,, on TLS without PLUS; p=tls-server-end-point,, with the binding data in c=', async () => {
    const y = rfcClient({ tls: true });
    expect(y.clientFirst().toString()).toBe(`y,,n=user,r=${CLIENT_NONCE}`);
    expect((await y.clientFinal(Buffer.from(SERVER_FIRST))).toString()).toMatch(/^c=eSws,/);

    const cb = Buffer.alloc(32, 9);
    const p = rfcClient({ tls: true, mechanism: SCRAM_SHA_256_PLUS, channelBindingData: cb });
    expect(p.clientFirst().toString()).toBe(`p=tls-server-end-point,,n=user,r=${CLIENT_NONCE}`);
    const final = (await p.clientFinal(Buffer.from(SERVER_FIRST))).toString();
    const c = Buffer.from(/^c=([^,]+)/.exec(final)![1], 'base64');
    expect(c).toEqual(Buffer.concat([Buffer.from('p=tls-server-end-point,,'), cb]));
  });
});

describe('tls-server-end-point', () => {
  it('hashes the DER with SHA-256 for sha256 signatures and SHA-384 for sha384 ones', () => {
    for (const [kind, hash] of [
      ['rsa-sha256', 'sha256'],
      ['ec-sha384', 'sha384'],
    ] as const) {
      const der = new X509Certificate(createTestCertificates(kind).certPem).raw;
      expect(tlsServerEndPoint(der)).toEqual(createHash(hash).update(der).digest());
    }
  });

  it('refuses garbage with a GatehouseError', () => {
    expect(() => tlsServerEndPoint(Buffer.from([0x30, 0x82, 0xff]))).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_UPSTREAM_TLS' }));
  });
});
