/**
 * Access tokens: a signed token (signed-token.ts) under the token-signing subkey. Claims: `sub`
 * (user id), `sid` (the sign-in session, checked on every request so logout and reuse
 * detection end the token), `mfa` (the second factor of that sign-in, or null), `iat`/`exp`
 * (seconds), `jti` (random id).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { readSignedToken, signToken } from './signed-token.ts';

export interface AccessClaims {
  sub: string;
  sid: string;
  mfa: string | null;
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

  issue(userId: string, session: { sid: string; mfa: string | null }, now = new Date()): { token: string; expiresAt: Date } {
    const iat = Math.floor(now.getTime() / 1000);
    const claims: AccessClaims = { sub: userId, sid: session.sid, mfa: session.mfa, iat, exp: iat + this.#ttlSeconds, jti: randomUUID() };
    return { token: signToken(this.#key, claims), expiresAt: new Date(claims.exp * 1000) };
  }

  /** Throws UNAUTHENTICATED for a malformed or forged token, TOKEN_EXPIRED past `exp`. */
  verify(token: string, now = new Date()): AccessClaims {
    const claims = readSignedToken(this.#key, token) as Partial<AccessClaims> | undefined;
    if (typeof claims?.sub !== 'string' || typeof claims.sid !== 'string' || typeof claims.exp !== 'number') throw invalid();
    if (claims.exp * 1000 <= now.getTime()) throw new GatehouseError(ErrorCodes.TOKEN_EXPIRED, 'the access token has expired; refresh it or sign in again');
    return claims as AccessClaims;
  }
}

function invalid(): GatehouseError {
  return new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the access token is not valid; sign in again');
}
