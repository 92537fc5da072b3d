/**
 * The short-lived token between password and second factor: `ghm.<base64url claims>.<HMAC>`.
 * It proves the password was right, for one user and one purpose ('login': verify a code;
 * 'enroll': set up TOTP first because the organization enforces it). It is not an access token
 * and no other route accepts it.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';

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
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${PREFIX}.${body}.${this.#sign(body)}`;
  }

  verify(token: string, purposes: readonly MfaTokenPurpose[], now = new Date()): MfaTokenClaims {
    const [prefix, body, signature, extra] = token.split('.');
    if (prefix !== PREFIX || !body || !signature || extra !== undefined) throw invalid();
    const expected = Buffer.from(this.#sign(body), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let claims: MfaTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as MfaTokenClaims;
    } catch {
      throw invalid();
    }
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || !purposes.includes(claims.purpose)) throw invalid();
    if (claims.exp * 1000 <= now.getTime()) throw new GatehouseError(ErrorCodes.TOKEN_EXPIRED, 'the sign-in step has expired; sign in with your password again');
    return claims;
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}

function invalid(): GatehouseError {
  return new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the MFA token is not valid; sign in with your password again');
}
