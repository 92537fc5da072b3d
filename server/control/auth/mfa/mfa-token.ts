/**
 * The short-lived token between password and second factor: `ghm.` + a signed token
 * (signed-token.ts).
 * It proves the password was right, for one user and one purpose ('login': verify a code;
 * 'enroll': set up TOTP first because the organization enforces it). It is not an access token
 * and no other route accepts it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { readSignedToken, signToken } from '../signed-token.ts';

export type MfaTokenPurpose = 'login' | 'enroll';

export interface MfaTokenClaims {
  sub: string;
  purpose: MfaTokenPurpose;
  exp: number;
  jti: string;
}

const PREFIX = 'ghm';

export class MfaTokens {
  readonly #key: Buffer;
  readonly #ttlSeconds: number;

  constructor(tokenSigningKey: Buffer, ttlSeconds: number) {
    // Its own key, so an MFA token can never pass as an access token or the reverse.
    this.#key = createHmac('sha256', tokenSigningKey).update('gatehouse/mfa-token/v1').digest();
    this.#ttlSeconds = ttlSeconds;
  }

  issue(userId: string, purpose: MfaTokenPurpose, now = new Date()): string {
    const claims: MfaTokenClaims = { sub: userId, purpose, exp: Math.floor(now.getTime() / 1000) + this.#ttlSeconds, jti: randomUUID() };
    return `${PREFIX}.${signToken(this.#key, claims)}`;
  }

  verify(token: string, purposes: readonly MfaTokenPurpose[], now = new Date()): MfaTokenClaims {
    const signed = token.startsWith(`${PREFIX}.`) ? token.slice(PREFIX.length + 1) : undefined;
    const claims = signed === undefined ? undefined : (readSignedToken(this.#key, signed) as Partial<MfaTokenClaims> | undefined);
    if (typeof claims?.sub !== 'string' || typeof claims.exp !== 'number' || !purposes.includes(claims.purpose as MfaTokenPurpose)) throw invalid();
    if (claims.exp * 1000 <= now.getTime())
      throw new GatehouseError(ErrorCodes.TOKEN_EXPIRED, 'the sign-in step has expired; sign in with your password again');
    return claims as MfaTokenClaims;
  }
}

function invalid(): GatehouseError {
  return new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the MFA token is not valid; sign in with your password again');
}
