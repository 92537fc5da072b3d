/**
 * Access tokens: `<base64url JSON claims>.<base64url HMAC-SHA256>` under the token-signing
 * subkey. Claims: `sub` (user id), `iat`/`exp` (seconds), `jti` (random id).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

export interface AccessClaims {
  sub: string;
  iat: number;
  exp: number;
  jti: string;
}

export class AccessTokens {
  readonly #key: Buffer;
  readonly #ttlSeconds: number;

  constructor(key: Buffer, ttlSeconds: number) {
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
  }

  issue(userId: string, now = new Date()): { token: string; expiresAt: Date } {
    const iat = Math.floor(now.getTime() / 1000);
    const claims: AccessClaims = { sub: userId, iat, exp: iat + this.#ttlSeconds, jti: randomUUID() };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${body}.${this.#sign(body)}`, expiresAt: new Date(claims.exp * 1000) };
  }

  /** Throws UNAUTHENTICATED for a malformed or forged token, TOKEN_EXPIRED past `exp`. */
  verify(token: string, now = new Date()): AccessClaims {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) throw invalid();
    const expected = Buffer.from(this.#sign(body), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let claims: AccessClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as AccessClaims;
    } catch {
      throw invalid();
    }
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw invalid();
    if (claims.exp * 1000 <= now.getTime()) throw new GatehouseError(ErrorCodes.TOKEN_EXPIRED, 'the access token has expired; refresh it or sign in again');
    return claims;
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}

function invalid(): GatehouseError {
  return new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the access token is not valid; sign in again');
}
