/**
 * The HTTP sign-in: lockout check, password, then (when the user has TOTP or the organization
 * enforces MFA) a second step with a short-lived MFA token. Every attempt is audited.
 *
 * Answers of `login`:
 * - tokens (`LoginResult`) when no second factor is needed;
 * - `{ mfaRequired: true, mfaToken, methods }`: verify a code with `POST /auth/mfa/verify`;
 * - `{ mfaRequired: true, mfaEnrollmentRequired: true, mfaToken, methods: ['totp'] }`: the
 *   organization enforces TOTP and the user has none yet; the token only works for
 *   `POST /auth/mfa/totp/enroll` and `/confirm`, and confirming answers the tokens.
 */
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import type { Audit } from '../../audit.ts';
import type { Store } from '../../store/store.ts';
import type { User } from '../../store/users.ts';
import type { AuthService, LoginResult } from '../auth-service.ts';
import { lockedOut, throttleKeys, type Lockout } from '../lockout.ts';
import type { MfaMethod, MfaService } from './mfa-service.ts';
import type { MfaTokens } from './mfa-token.ts';

export interface MfaChallengeAnswer {
  mfaRequired: true;
  mfaEnrollmentRequired?: true;
  mfaToken: string;
  methods: MfaMethod[];
}

export type LoginAnswer = LoginResult | MfaChallengeAnswer;

export interface SignInOptions {
  store: Store;
  auth: AuthService;
  mfa: MfaService;
  tokens: MfaTokens;
  lockout: Lockout;
  audit: Audit;
  loginMaxFailures: number;
  loginMaxFailuresPerUser: number;
}

export class SignInService {
  readonly #o: SignInOptions;

  constructor(options: SignInOptions) {
    this.#o = options;
  }

  async login(email: string, password: string, sourceAddress: string | null): Promise<LoginAnswer> {
    const { lockout, audit } = this.#o;
    const keys = [throttleKeys.loginSource(email, sourceAddress), throttleKeys.loginUser(email)];
    const lockedUntil = await lockout.lockedUntil(keys);
    if (lockedUntil) {
      await audit({ actor: null, actorEmail: email, action: 'auth.login_locked_out', targetType: 'user', targetId: null, projectId: null, sourceAddress });
      throw lockedOut('sign-ins', lockedUntil);
    }
    const user = await this.#o.auth.checkPassword(email, password);
    if (!user) {
      await audit({ actor: null, actorEmail: email, action: 'auth.login_failed', targetType: 'user', targetId: null, projectId: null, sourceAddress, details: { reason: 'wrong email or password' } });
      const bySource = await lockout.fail(keys[0], this.#o.loginMaxFailures);
      const byUser = await lockout.fail(keys[1], this.#o.loginMaxFailuresPerUser);
      const until = bySource ?? byUser;
      if (until) {
        const scope = bySource ? 'email+source' : 'email';
        await audit({ actor: null, actorEmail: email, action: 'auth.lockout', targetType: 'user', targetId: null, projectId: null, sourceAddress, details: { scope, lockedUntil: until.toISOString() } });
      }
      throw new GatehouseError(ErrorCodes.INVALID_CREDENTIALS, 'wrong email or password');
    }
    if (user.disabled) {
      await this.#audit(user, 'auth.login_failed', sourceAddress, { reason: 'user disabled' });
      throw new GatehouseError(ErrorCodes.USER_DISABLED, 'this user has been disabled by an administrator');
    }
    await lockout.reset(keys);
    const { needed, enrollmentRequired } = await this.#o.mfa.signInNeedsMfa(user);
    if (enrollmentRequired) {
      await this.#audit(user, 'auth.mfa_enrollment_required', sourceAddress);
      return { mfaRequired: true, mfaEnrollmentRequired: true, mfaToken: this.#o.tokens.issue(user.id, 'enroll'), methods: ['totp'] };
    }
    if (needed) {
      const methods = await this.#o.mfa.methodsFor(user, 'login');
      await this.#audit(user, 'auth.mfa_challenge', sourceAddress, { methods });
      return { mfaRequired: true, mfaToken: this.#o.tokens.issue(user.id, 'login'), methods };
    }
    return this.#complete(user, sourceAddress, undefined);
  }

  async verify(mfaToken: string, method: MfaMethod, code: string, sourceAddress: string | null): Promise<LoginResult> {
    const user = await this.#userOf(mfaToken, 'login');
    await this.#o.mfa.verify(user, method, code, 'login', sourceAddress);
    await this.#consume(mfaToken);
    return this.#complete(user, sourceAddress, method);
  }

  async sendEmailCode(mfaToken: string, sourceAddress: string | null): Promise<{ sentTo: string; expiresAt: string }> {
    return this.#o.mfa.sendEmailCode(await this.#userOf(mfaToken, 'login'), 'login', sourceAddress);
  }

  async enrollTotp(mfaToken: string, sourceAddress: string | null): Promise<{ secret: string; otpauthUrl: string; qrDataUrl: string }> {
    return this.#o.mfa.enrollTotp(await this.#userOf(mfaToken, 'enroll'), sourceAddress);
  }

  async confirmTotp(mfaToken: string, code: string, sourceAddress: string | null): Promise<LoginResult & { recoveryCodes: string[] }> {
    const user = await this.#userOf(mfaToken, 'enroll');
    const { recoveryCodes } = await this.#o.mfa.confirmTotp(user, code, sourceAddress);
    await this.#consume(mfaToken);
    return { ...(await this.#complete(user, sourceAddress, 'totp')), recoveryCodes };
  }

  /**
   * An mfaToken completes one sign-in. A wrong code leaves it usable (the person types again);
   * once a code was accepted, the same token is refused, so a copy of it is worth nothing.
   */
  async #consume(mfaToken: string): Promise<void> {
    const claims = this.#o.tokens.verify(mfaToken, ['login', 'enroll']);
    if (!(await this.#o.mfa.repo.claimSignInToken(claims.jti, new Date(claims.exp * 1000)))) throw alreadyCompleted();
  }

  async #userOf(mfaToken: string, purpose: 'login' | 'enroll'): Promise<User> {
    const claims = this.#o.tokens.verify(mfaToken, [purpose]);
    // Checked before any code is looked at, so a copy of a used token cannot even spend codes.
    if (await this.#o.mfa.repo.signInTokenUsed(claims.jti)) throw alreadyCompleted();
    const user = await this.#o.store.users.findById(claims.sub);
    if (!user) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'the account behind this sign-in no longer exists');
    if (user.disabled) throw new GatehouseError(ErrorCodes.USER_DISABLED, 'this user has been disabled by an administrator');
    return user;
  }

  async #complete(user: User, sourceAddress: string | null, mfa: MfaMethod | undefined): Promise<LoginResult> {
    const result = await this.#o.auth.issueTokens(user);
    await this.#audit(user, 'auth.login', sourceAddress, mfa ? { mfa } : {});
    return result;
  }

  #audit(user: User, action: string, sourceAddress: string | null, details?: Record<string, unknown>): Promise<void> {
    return this.#o.audit({ actor: user, action, targetType: 'user', targetId: user.id, targetName: user.email, projectId: null, sourceAddress, details });
  }
}

function alreadyCompleted(): GatehouseError {
  return new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'this sign-in step was already completed; sign in with your password again');
}
