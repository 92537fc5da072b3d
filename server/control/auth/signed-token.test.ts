import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessTokens } from './access-tokens.ts';
import { MfaTokens } from './mfa/mfa-token.ts';
import { readSignedToken, signToken } from './signed-token.ts';

describe('signed tokens', () => {
  const key = randomBytes(32);

  it('reads back what it signed, and nothing altered, forged, extended or not an object', () => {
    const token = signToken(key, { sub: 'u1', exp: 1 });
    expect(readSignedToken(key, token)).toEqual({ sub: 'u1', exp: 1 });
    const [body, mac] = token.split('.');
    const other = Buffer.from(JSON.stringify({ sub: 'admin', exp: 1 })).toString('base64url');
    expect(readSignedToken(key, `${other}.${mac}`)).toBeUndefined();
    expect(readSignedToken(randomBytes(32), token)).toBeUndefined();
    expect(readSignedToken(key, `${token}.x`)).toBeUndefined();
    expect(readSignedToken(key, body)).toBeUndefined();
    expect(readSignedToken(key, signToken(key, [1, 2]))).toBeUndefined();
  });

  it('issue 10 item 16: a signature is read strictly; no other spelling of it verifies', () => {
    const token = signToken(key, { sub: 'u1', exp: 1 });
    const [body, mac] = token.split('.') as [string, string];
    // 32 bytes take 43 base64url characters; the last one carries 2 unused low bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.at(-1)!);
    const sameBytes = [0, 1, 2, 3].map((low) => alphabet[(last & ~3) | low]).filter((c) => c !== mac.at(-1));
    expect(sameBytes).toHaveLength(3);
    for (const c of sameBytes) {
      const variant = `${mac.slice(0, -1)}${c}`;
      expect(Buffer.from(variant, 'base64url').equals(Buffer.from(mac, 'base64url'))).toBe(true); // what a lenient decoder sees
      expect(readSignedToken(key, `${body}.${variant}`)).toBeUndefined();
    }
    expect(readSignedToken(key, `${body}.${mac}=`)).toBeUndefined();
    expect(readSignedToken(key, `${body}.${mac.slice(0, 20)}!${mac.slice(20)}`)).toBeUndefined();
    const standard = mac.replaceAll('-', '+').replaceAll('_', '/'); // the same bytes in standard base64
    if (standard !== mac) expect(readSignedToken(key, `${body}.${standard}`)).toBeUndefined();
    expect(readSignedToken(key, token)).toEqual({ sub: 'u1', exp: 1 });
  });

  it('an access token never passes as an MFA token, nor the reverse', () => {
    const access = new AccessTokens(key, 60);
    const mfa = new MfaTokens(key, 60);
    const { token } = access.issue('u1', { sid: 's1', mfa: null });
    expect(access.verify(token).sub).toBe('u1');
    expect(() => mfa.verify(`ghm.${token}`, ['login'])).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED' }));
    const challenge = mfa.issue('u1', 'login');
    expect(mfa.verify(challenge, ['login']).purpose).toBe('login');
    expect(() => mfa.verify(challenge, ['enroll'])).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED' }));
    expect(() => access.verify(challenge.slice(4))).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED' }));
    expect(() => access.verify(access.issue('u1', { sid: 's1', mfa: null }, new Date(Date.now() - 120_000)).token)).toThrow(
      expect.objectContaining({ code: 'GATEHOUSE_ERR_TOKEN_EXPIRED' }),
    );
  });
});
