/**
 * Tokens after sign-in: issuing them (one sign-in session per sign-in, see
 * store/refresh-tokens.ts), refresh-token rotation with reuse detection, logout, and bearer-token
 * authentication. The sign-in steps themselves (lockout, password, MFA) are in auth/mfa/sign-in.ts.
 *
 * Every authenticated request reads the user, the token's sign-in session and the enforced MFA
 * setting in one query, so a disabled user, a logged-out or reused family, and a sign-in without
 * the second factor the organization now enforces are refused from the next request on.
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { Audit } from '../audit.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';
import { AccessTokens } from './access-tokens.ts';
import { mfaSatisfies } from './mfa/enforcement.ts';
import { createOpaqueToken, hashOpaqueToken } from './opaque-tokens.ts';
import { verifyAgainstDummy, verifyPassword } from './passwords.ts';

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: { id: string; email: string; name: string; isAdmin: boolean };
}

export interface IssueOptions {
  /** The second factor that completed this sign-in; null or left out: password only. */
  mfaMethod?: string | null;
  sourceAddress?: string | null;
}

export class AuthService {
  readonly #store: Store;
  readonly #accessTokens: AccessTokens;
  readonly #refreshTtlSeconds: number;
  readonly #audit: Audit | undefined;

  constructor(options: { store: Store; tokenSigningKey: Buffer; accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number; audit?: Audit }) {
    this.#store = options.store;
    this.#accessTokens = new AccessTokens(options.tokenSigningKey, options.accessTokenTtlSeconds);
    this.#refreshTtlSeconds = options.refreshTokenTtlSeconds;
    this.#audit = options.audit;
  }

  /**
   * The user when the password is right (disabled users included: the caller answers them like
   * a wrong password). An argon2 verification runs in every case, unknown emails included, so
   * the time spent does not tell which emails exist.
   */
  async checkPassword(email: string, password: string): Promise<User | undefined> {
    const user = await this.#store.users.findByEmail(email);
    const ok = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstDummy(password);
    if (!user || !ok) return undefined;
    const { passwordHash: _hash, ...plain } = user;
    return plain;
  }

  /** Tokens for a user who has passed every sign-in step; starts a sign-in session. Refuses disabled users. */
  async issueTokens(user: User, options: IssueOptions = {}): Promise<LoginResult> {
    if (user.disabled) throw userDisabled();
    const sessionId = await this.#store.refreshTokens.startSession({
      userId: user.id,
      mfaMethod: options.mfaMethod ?? null,
      sourceAddress: options.sourceAddress ?? null,
    });
    return this.#issue(user, sessionId, options.mfaMethod ?? null);
  }

  /**
   * Uses a refresh token once and hands out a new pair in the same sign-in session. A token
   * used before ends its whole family (audited `auth.refresh_reuse`); a family whose sign-in
   * lacks the MFA the organization now enforces is ended too (`auth.refresh_refused`).
   */
  async refresh(refreshToken: string, sourceAddress: string | null = null): Promise<LoginResult> {
    const now = new Date();
    const consumed = await this.#store.refreshTokens.consume(hashOpaqueToken(refreshToken), now);
    if (consumed.state === 'reused') {
      const user = await this.#store.users.findById(consumed.userId);
      await this.#audit?.({
        actor: user ?? null,
        action: 'auth.refresh_reuse',
        targetType: 'user',
        targetId: consumed.userId,
        projectId: null,
        sourceAddress,
        details: { sessionId: consumed.sessionId, familyRevoked: consumed.familyWasLive },
      });
      throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'this refresh token was already used: every token of this sign-in is now revoked; sign in again');
    }
    const user = consumed.state === 'invalid' ? undefined : await this.#store.users.findById(consumed.userId);
    if (user?.disabled) throw userDisabled();
    if (consumed.state !== 'ok' || !user)
      throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the refresh token is not valid (used, expired or revoked); sign in again');
    const enforce = await this.#store.refreshTokens.mfaEnforcement();
    if (!mfaSatisfies(enforce, consumed.mfaMethod)) {
      await this.#store.refreshTokens.revokeSession(consumed.sessionId, 'mfa_enforced', now);
      await this.#audit?.({
        actor: user,
        action: 'auth.refresh_refused',
        targetType: 'user',
        targetId: user.id,
        projectId: null,
        sourceAddress,
        details: { reason: 'mfa_enforced', enforce },
      });
      throw mfaNowRequired(enforce);
    }
    return this.#issue(user, consumed.sessionId, consumed.mfaMethod);
  }

  /**
   * Ends the sign-in sessions named: the one of the access token in `authorization` (so that
   * access token stops working at once) and the one of `refreshToken` when given (it must be
   * the caller's).
   */
  async logout(user: User, refreshToken: string | undefined, options: { authorization?: string; sourceAddress?: string | null } = {}): Promise<void> {
    const now = new Date();
    const sessions = new Set<string>();
    const bearer = bearerOf(options.authorization);
    if (bearer !== undefined) {
      const claims = this.#accessTokens.verify(bearer);
      if (claims.sub === user.id) sessions.add(claims.sid);
    }
    if (refreshToken !== undefined) {
      const sid = await this.#store.refreshTokens.sessionOf(hashOpaqueToken(refreshToken), user.id);
      if (sid !== undefined) sessions.add(sid);
    }
    for (const sid of sessions) await this.#store.refreshTokens.revokeSession(sid, 'logout', now);
    await this.#audit?.({
      actor: user,
      action: 'auth.logout',
      targetType: 'user',
      targetId: user.id,
      projectId: null,
      sourceAddress: options.sourceAddress ?? null,
      details: { sessions: sessions.size },
    });
  }

  /** The user behind an `Authorization: Bearer` header. */
  async authenticate(authorization: string | undefined): Promise<User> {
    const token = bearerOf(authorization);
    if (token === undefined) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'sign in first: this request needs an Authorization: Bearer token');
    const claims = this.#accessTokens.verify(token);
    // One query per request (no process cache): user, sign-in session, enforced MFA.
    const principal = await this.#store.refreshTokens.principal(claims.sub, claims.sid);
    if (!principal) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the account behind this token no longer exists');
    if (principal.user.disabled) throw userDisabled();
    if (!principal.session || principal.session.revoked)
      throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'this sign-in has ended (signed out or revoked); sign in again');
    if (!mfaSatisfies(principal.enforce, principal.session.mfaMethod)) throw mfaNowRequired(principal.enforce);
    return principal.user;
  }

  async #issue(user: User, sessionId: string, mfaMethod: string | null): Promise<LoginResult> {
    const now = new Date();
    const access = this.#accessTokens.issue(user.id, { sid: sessionId, mfa: mfaMethod }, now);
    const refresh = createOpaqueToken('ghr');
    await this.#store.refreshTokens.create({
      userId: user.id,
      sessionId,
      tokenHash: refresh.hash,
      expiresAt: new Date(now.getTime() + this.#refreshTtlSeconds * 1000),
    });
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresAt: access.expiresAt.toISOString(),
      user: { id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin },
    };
  }
}

function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization ?? '')?.[1];
}

function userDisabled(): GatehouseError {
  return new GatehouseError(ErrorCodes.USER_DISABLED, 'this user has been disabled by an administrator');
}

function mfaNowRequired(enforce: string): GatehouseError {
  return new GatehouseError(
    ErrorCodes.UNAUTHENTICATED,
    `the organization requires ${enforce === 'totp' ? 'TOTP' : 'MFA'} and this sign-in did not use it; sign in again with your second factor`,
  );
}
