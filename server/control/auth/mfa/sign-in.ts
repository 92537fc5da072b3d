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
  /** The lockout window (for the flood audit rows' details). */
  windowMs: number;
}

/** Unauthenticated sign-in events audited one row each, per source and in all, per window. */
const FLOOD_ROWS_PER_SOURCE = 10;
const FLOOD_ROWS_TOTAL = 200;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export class SignInService {
  readonly #o: SignInOptions;

  constructor(options: SignInOptions) {
    this.#o = options;
  }

  /**
   * Password sign-in. Lockout (see docs/security.md "Sign-in lockout"):
   * - per email + source address: at most `loginMaxFailures` password checks per window,
   *   reserved atomically before the check, then a lock of that pair only;
   * - per email from anywhere: past `loginMaxFailuresPerUser` failures in the window, every
   *   source is held to one attempt per window for that email (slower, never a hard lock, so an
   *   attacker without the password cannot lock the real user out from their own address).
   * A disabled user's right password gets the same answer as a wrong one, after the same work.
   */
  async login(email: string, password: string, sourceAddress: string | null): Promise<LoginAnswer> {
    return this.afterPassword(await this.checkPassword(email, password, sourceAddress), sourceAddress);
  }

  /**
   * The password step of `login` alone (lockout, audit, the same refusal for a wrong password
   * and a disabled user): the user when the password is right. Also used where an existing
   * account accepts an invitation, so guessing its password there counts like a wrong sign-in.
   */
  async checkPassword(email: string, password: string, sourceAddress: string | null): Promise<User> {
    const { lockout } = this.#o;
    const sourceKey = throttleKeys.loginSource(email, sourceAddress);
    const userKey = throttleKeys.loginUser(email);
    const underAttack = (await lockout.count(userKey)) >= this.#o.loginMaxFailuresPerUser;
    const limit = underAttack ? 1 : this.#o.loginMaxFailures;
    const reserved = await lockout.reserve(sourceKey, limit);
    if (!reserved.allowed) {
      await this.#auditUnauthenticated(email, sourceAddress, [{ action: 'auth.login_locked_out', details: { scope: underAttack ? 'email' : 'email+source' } }]);
      throw lockedOut('sign-ins', reserved.until);
    }
    const user = await this.#o.auth.checkPassword(email, password);
    if (!user || user.disabled) {
      const reason = user ? 'user disabled' : 'wrong email or password';
      await lockout.hit(userKey);
      const until = await lockout.lockIfReached(sourceKey, reserved.attempt, limit);
      await this.#auditUnauthenticated(email, sourceAddress, [
        { action: 'auth.login_failed', details: { reason } },
        ...(until ? [{ action: 'auth.lockout', details: { scope: underAttack ? 'email' : 'email+source', lockedUntil: until.toISOString() } }] : []),
      ]);
      throw new GatehouseError(ErrorCodes.INVALID_CREDENTIALS, 'wrong email or password');
    }
    await lockout.reset([sourceKey]);
    return user;
  }

  /**
   * The steps after a right password, for sign-in and for an accepted invitation alike: an
   * MFA challenge, an enrollment challenge when the organization enforces TOTP, or tokens.
   */
  async afterPassword(user: User, sourceAddress: string | null): Promise<LoginAnswer> {
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

  /**
   * Audit for sign-in attempts nobody has proven to own: one row each while a source (and the
   * whole server) sees few of them in the lockout window; past that, one `auth.login_flood` row
   * each time the count reaches a power of two, so a flood costs a logarithmic number of rows.
   */
  async #auditUnauthenticated(email: string, sourceAddress: string | null, events: { action: string; details: Record<string, unknown> }[]): Promise<void> {
    const { lockout, audit } = this.#o;
    const fromSource = await lockout.hit(throttleKeys.loginAuditSource(sourceAddress));
    const fromAll = await lockout.hit(throttleKeys.loginAuditAll());
    const base = { actor: null, actorEmail: email, targetType: 'user', targetId: null, projectId: null, sourceAddress } as const;
    if (fromSource <= FLOOD_ROWS_PER_SOURCE && fromAll <= FLOOD_ROWS_TOTAL) {
      for (const event of events) await audit({ ...base, ...event });
      return;
    }
    const scope = isPowerOfTwo(fromSource) ? 'source' : isPowerOfTwo(fromAll) ? 'all' : undefined;
    if (scope === undefined) return;
    await audit({
      ...base,
      action: 'auth.login_flood',
      details: {
        scope,
        attemptsFromSource: fromSource,
        attemptsFromAll: fromAll,
        windowMinutes: Math.round(this.#o.windowMs / 60_000),
        last: events.map((e) => e.action),
      },
    });
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
    const result = await this.#o.auth.issueTokens(user, { mfaMethod: mfa ?? null, sourceAddress });
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
