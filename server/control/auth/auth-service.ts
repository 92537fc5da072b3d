/** Sign-in, refresh-token rotation, sign-out and bearer-token authentication. */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';
import { AccessTokens } from './access-tokens.ts';
import { createOpaqueToken, hashOpaqueToken } from './opaque-tokens.ts';
import { verifyAgainstDummy, verifyPassword } from './passwords.ts';

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: { id: string; email: string; name: string; isAdmin: boolean };
}

export class AuthService {
  readonly #store: Store;
  readonly #accessTokens: AccessTokens;
  readonly #refreshTtlSeconds: number;

  constructor(options: { store: Store; tokenSigningKey: Buffer; accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number }) {
    this.#store = options.store;
    this.#accessTokens = new AccessTokens(options.tokenSigningKey, options.accessTokenTtlSeconds);
    this.#refreshTtlSeconds = options.refreshTokenTtlSeconds;
  }

  /** Password only, no MFA or lockout: the HTTP sign-in goes through `SignInService` (auth/mfa/sign-in.ts). */
  async login(email: string, password: string): Promise<LoginResult> {
    const user = await this.checkPassword(email, password);
    if (!user) throw new GatehouseError(ErrorCodes.INVALID_CREDENTIALS, 'wrong email or password');
    if (user.disabled) throw userDisabled();
    return this.#issue(user);
  }

  /** The user when the password is right; the same time is spent for unknown emails. */
  async checkPassword(email: string, password: string): Promise<User | undefined> {
    const user = await this.#store.users.findByEmail(email);
    const ok = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstDummy(password);
    if (!user || !ok) return undefined;
    const { passwordHash: _hash, ...plain } = user;
    return plain;
  }

  /** Tokens for a user who has passed every sign-in step; refuses disabled users. */
  async issueTokens(user: User): Promise<LoginResult> {
    if (user.disabled) throw userDisabled();
    return this.#issue(user);
  }

  /** Uses a refresh token once and hands out a new pair. */
  async refresh(refreshToken: string): Promise<LoginResult> {
    const consumed = await this.#store.refreshTokens.consume(hashOpaqueToken(refreshToken), new Date());
    const user = consumed && (await this.#store.users.findById(consumed.userId));
    if (!user) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the refresh token is not valid (used, expired or revoked); sign in again');
    if (user.disabled) throw userDisabled();
    return this.#issue(user);
  }

  async logout(user: User, refreshToken: string | undefined): Promise<void> {
    if (refreshToken !== undefined) await this.#store.refreshTokens.revoke(hashOpaqueToken(refreshToken), user.id, new Date());
  }

  /** The user behind an `Authorization: Bearer` header. */
  async authenticate(authorization: string | undefined): Promise<User> {
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization ?? '');
    if (!match) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'sign in first: this request needs an Authorization: Bearer token');
    const claims = this.#accessTokens.verify(match[1]);
    const user = await this.#store.users.findById(claims.sub);
    if (!user) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the account behind this token no longer exists');
    // Read per request (no process cache), so disabling a user refuses their tokens at once.
    if (user.disabled) throw userDisabled();
    return user;
  }

  async #issue(user: User): Promise<LoginResult> {
    const now = new Date();
    const access = this.#accessTokens.issue(user.id, now);
    const refresh = createOpaqueToken('ghr');
    await this.#store.refreshTokens.create({ userId: user.id, tokenHash: refresh.hash, expiresAt: new Date(now.getTime() + this.#refreshTtlSeconds * 1000) });
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresAt: access.expiresAt.toISOString(),
      user: { id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin },
    };
  }
}

function userDisabled(): GatehouseError {
  return new GatehouseError(ErrorCodes.USER_DISABLED, 'this user has been disabled by an administrator');
}
