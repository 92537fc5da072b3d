import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors.ts';
import { generateKeyPair } from '../tls/keys.ts';
import { openSealed, sealToPublicKey, targetPasswordContext } from './sealed-secret.ts';

describe('issue 10 item 1: target password sealed to the gateway key', () => {
  const gateway = generateKeyPair();
  const context = targetPasswordContext('gw-1', 'session-1');

  it('opens with the recipient key and the same context only', () => {
    const sealed = sealToPublicKey('s3cret pässword', gateway.publicKeyPem, context);
    expect(sealed).toMatch(/^ghseal1\./);
    expect(sealed).not.toContain('s3cret');
    expect(openSealed(sealed, gateway.privateKeyPem, context)).toBe('s3cret pässword');
    // Each seal is fresh (ephemeral key, random IV).
    expect(sealToPublicKey('s3cret pässword', gateway.publicKeyPem, context)).not.toBe(sealed);
  });

  it('refuses another key, another context, and any tampering with DECRYPT_FAILED', () => {
    const sealed = sealToPublicKey('pw', gateway.publicKeyPem, context);
    const other = generateKeyPair();
    expect(() => openSealed(sealed, other.privateKeyPem, context)).toThrow(expect.objectContaining({ code: ErrorCodes.DECRYPT_FAILED }));
    expect(() => openSealed(sealed, gateway.privateKeyPem, targetPasswordContext('gw-1', 'session-2'))).toThrow(
      expect.objectContaining({ code: ErrorCodes.DECRYPT_FAILED }),
    );
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[0] ^= 1;
    const tampered = [...parts.slice(0, 3), body.toString('base64url')].join('.');
    expect(() => openSealed(tampered, gateway.privateKeyPem, context)).toThrow(expect.objectContaining({ code: ErrorCodes.DECRYPT_FAILED }));
    expect(() => openSealed('plain', gateway.privateKeyPem, context)).toThrow(expect.objectContaining({ code: ErrorCodes.DECRYPT_FAILED }));
  });
});
