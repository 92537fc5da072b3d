/**
 * The one format of the control plane's stateless tokens (access tokens, MFA tokens):
 * `<base64url JSON claims>.<base64url HMAC-SHA256 of that text>`. Each kind signs with its own
 * key, so one kind never passes for another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signToken(key: Buffer, claims: object): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(key, body)}`;
}

/**
 * The claims of a token signed with `key`; undefined when malformed or forged (constant-time check).
 * The signature is compared as text, not decoded: base64url decoding ignores the unused low bits
 * of the last character (and stray characters), so decoding first would accept several
 * spellings of one signature.
 */
export function readSignedToken(key: Buffer, token: string): Record<string, unknown> | undefined {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(mac(key, body), 'latin1');
  const given = Buffer.from(signature, 'latin1');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}
