/**
 * MFA for users: TOTP enrollment (secret sealed at rest), recovery codes, email codes through
 * SMTP, the organization's enforced method and the verification of a code for sign-in
 * ('login') or for opening a session on an account that requires MFA ('access').
 * Every outcome is audited; failed codes count towards a per-user lockout.
 */
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import type { Audit } from '../../audit.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Mailer } from '../../mail/mailer.ts';
import { smtpNotConfigured } from '../../mail/mailer.ts';
import type { MfaCodePurpose } from '../../store/mfa-audit-schema.ts';
import type { Store } from '../../store/store.ts';
import type { User } from '../../store/users.ts';
import { lockedOut, throttleKeys, type Lockout } from '../lockout.ts';
import { hashCode, newEmailCode, newRecoveryCode, normalizeRecoveryCode } from './codes.ts';
import { createMfaRepo, type MfaEnforcement, type MfaRepo } from '../../store/mfa.ts';
import { newTotpSecret, totpEnrollment, totpStep } from './totp.ts';

export type MfaMethod = 'totp' | 'email' | 'recovery';
export type { MfaEnforcement };

const RECOVERY_CODE_COUNT = 10;
const EMAIL_CODE_TTL_MS = 10 * 60_000;
/** Email codes a user may ask for within the lockout window. */
const EMAIL_SENDS_PER_WINDOW = 5;

export interface MfaServiceOptions {
  store: Store;
  box: SecretBox;
  mailer: Mailer;
  lockout: Lockout;
  audit: Audit;
  /** Key for hashing one-time codes (derived from the token-signing key). */
  codeKey: Buffer;
  maxFailures: number;
}

export class MfaService {
  readonly repo: MfaRepo;
  readonly #o: MfaServiceOptions;

  constructor(options: MfaServiceOptions) {
    this.#o = options;
    this.repo = createMfaRepo(options.store.db);
  }

  get emailAvailable(): boolean {
    return this.#o.mailer.configured;
  }

  async hasTotp(userId: string): Promise<boolean> {
    return (await this.repo.totp(userId)).secretSealed !== null;
  }

  async status(user: User): Promise<{ totp: boolean; recoveryCodesLeft: number; enforce: MfaEnforcement; emailAvailable: boolean; methods: MfaMethod[] }> {
    const totp = await this.hasTotp(user.id);
    return {
      totp,
      recoveryCodesLeft: totp ? await this.repo.recoveryCodesLeft(user.id) : 0,
      enforce: await this.repo.enforcement(),
      emailAvailable: this.emailAvailable,
      methods: await this.methodsFor(user, 'access'),
    };
  }

  /**
   * The methods a user may answer a challenge with: the enforced one, else TOTP when enrolled
   * (recovery codes at sign-in, email as a fallback), else email. An enforced TOTP the user has
   * not enrolled yet is `['totp']` (the sign-in asks for enrollment).
   */
  async methodsFor(user: User, purpose: MfaCodePurpose): Promise<MfaMethod[]> {
    const enforce = await this.repo.enforcement();
    const totp = await this.hasTotp(user.id);
    const totpMethods: MfaMethod[] = totp ? (purpose === 'login' ? ['totp', 'recovery'] : ['totp']) : [];
    if (enforce === 'totp') return totp ? totpMethods : ['totp'];
    if (enforce === 'email') return ['email', ...totpMethods];
    if (totp) return this.emailAvailable ? [...totpMethods, 'email'] : totpMethods;
    return ['email'];
  }

  /** Whether sign-in needs a second step at all (TOTP enrolled, or the organization enforces MFA). */
  async signInNeedsMfa(user: User): Promise<{ needed: boolean; enrollmentRequired: boolean }> {
    const enforce = await this.repo.enforcement();
    const totp = await this.hasTotp(user.id);
    return { needed: totp || enforce !== 'none', enrollmentRequired: enforce === 'totp' && !totp };
  }

  async enrollTotp(user: User, sourceAddress: string | null): Promise<{ secret: string; otpauthUrl: string; qrDataUrl: string }> {
    if (await this.hasTotp(user.id)) throw new GatehouseError(ErrorCodes.CONFLICT, 'TOTP is already set up; disable it first to enroll a new device');
    const secret = newTotpSecret();
    await this.repo.setPending(user.id, this.#o.box.seal(secret, pendingAad(user.id)));
    await this.#audit(user, 'mfa.totp_enroll_started', sourceAddress);
    return totpEnrollment(secret, user.email);
  }

  async confirmTotp(user: User, code: string, sourceAddress: string | null): Promise<{ recoveryCodes: string[] }> {
    await this.#assertUnlocked(user, sourceAddress);
    const state = await this.repo.totp(user.id);
    if (state.secretSealed !== null) throw new GatehouseError(ErrorCodes.CONFLICT, 'TOTP is already set up');
    if (state.pendingSealed === null) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'start the enrollment first (POST /me/mfa/totp/enroll)');
    const secret = this.#o.box.openString(state.pendingSealed, pendingAad(user.id));
    const step = totpStep(secret, code.trim());
    if (step === undefined) {
      await this.#failed(user, 'totp', 'enroll', sourceAddress, 'wrong code');
      throw invalid('the code is not right; check the time on your device and enter the current code');
    }
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const hashes = recoveryCodes.map((c) => hashCode(this.#o.codeKey, 'recovery', user.id, c));
    await this.repo.activate(user.id, this.#o.box.seal(secret, activeAad(user.id)), step, hashes);
    await this.#o.lockout.reset([throttleKeys.mfa(user.id)]);
    await this.#audit(user, 'mfa.totp_enrolled', sourceAddress);
    return { recoveryCodes };
  }

  /** Needs a current TOTP or recovery code; refused while the organization enforces TOTP. */
  async disableTotp(user: User, code: string, sourceAddress: string | null): Promise<void> {
    if (!(await this.hasTotp(user.id))) throw new GatehouseError(ErrorCodes.NOT_FOUND, 'TOTP is not set up');
    if ((await this.repo.enforcement()) === 'totp') throw new GatehouseError(ErrorCodes.FORBIDDEN, 'the organization requires TOTP; it cannot be turned off');
    const method: MfaMethod = /^\d{6}$/.test(code.trim()) ? 'totp' : 'recovery';
    await this.verify(user, method, code, 'login', sourceAddress);
    await this.repo.disable(user.id);
    await this.#audit(user, 'mfa.totp_disabled', sourceAddress);
  }

  /** Mails a 6-digit code valid for 10 minutes. */
  async sendEmailCode(user: User, purpose: MfaCodePurpose, sourceAddress: string | null): Promise<{ sentTo: string; expiresAt: string }> {
    if (!(await this.methodsFor(user, purpose)).includes('email')) {
      throw new GatehouseError(ErrorCodes.FORBIDDEN, 'email codes are not allowed for this account; use your authenticator app');
    }
    if (!this.#o.mailer.configured) throw smtpNotConfigured();
    await this.#assertUnlocked(user, sourceAddress);
    if ((await this.#o.lockout.hit(throttleKeys.emailSend(user.id))) > EMAIL_SENDS_PER_WINDOW) {
      throw new GatehouseError(ErrorCodes.RATE_LIMITED, `at most ${EMAIL_SENDS_PER_WINDOW} email codes per period; use the last code you received or wait`);
    }
    const code = newEmailCode();
    const expiresAt = new Date(Date.now() + EMAIL_CODE_TTL_MS);
    await this.repo.addEmailCode(user.id, purpose, hashCode(this.#o.codeKey, 'email', user.id, code), expiresAt);
    await this.#o.mailer.send({
      to: user.email,
      subject: `Your Gatehouse code: ${code}`,
      text: `Your Gatehouse ${purpose === 'login' ? 'sign-in' : 'access'} code is ${code}.\nIt works once, for 10 minutes.\nIf you did not ask for it, tell your administrator.\n`,
    });
    await this.#audit(user, 'mfa.email_sent', sourceAddress, { purpose });
    return { sentTo: maskEmail(user.email), expiresAt: expiresAt.toISOString() };
  }

  /** Checks one code; throws MFA_INVALID (counted) or LOCKED_OUT. Each code works once. */
  async verify(user: User, method: MfaMethod, code: string, purpose: MfaCodePurpose, sourceAddress: string | null): Promise<void> {
    await this.#assertUnlocked(user, sourceAddress);
    const allowed = await this.methodsFor(user, purpose);
    if (!allowed.includes(method)) {
      await this.#failed(user, method, purpose, sourceAddress, 'method not allowed');
      throw invalid(`the method "${method}" is not available here; use one of: ${allowed.join(', ')}`);
    }
    const problem = await this.#check(user, method, code.trim(), purpose);
    if (problem !== undefined) {
      await this.#failed(user, method, purpose, sourceAddress, problem);
      throw invalid(problem === 'replayed' ? 'this code was already used; wait for the next code from your app' : 'the code is not right (or has expired)');
    }
    await this.#o.lockout.reset([throttleKeys.mfa(user.id)]);
    await this.#audit(user, method === 'recovery' ? 'mfa.recovery_used' : 'mfa.verify', sourceAddress, { method, purpose });
  }

  async setEnforcement(admin: User, enforce: MfaEnforcement, sourceAddress: string | null): Promise<void> {
    if (enforce === 'email' && !this.#o.mailer.configured) throw smtpNotConfigured();
    await this.repo.setEnforcement(enforce);
    await this.#o.audit({ actor: admin, action: 'settings.mfa_update', targetType: 'settings', targetId: 'mfa', sourceAddress, details: { enforce } });
  }

  /** undefined when the code is right (and now used), else why not. */
  async #check(user: User, method: MfaMethod, code: string, purpose: MfaCodePurpose): Promise<string | undefined> {
    if (method === 'email') {
      if (!/^\d{6}$/.test(code)) return 'wrong code';
      return (await this.repo.useEmailCode(user.id, purpose, hashCode(this.#o.codeKey, 'email', user.id, code))) ? undefined : 'wrong or expired email code';
    }
    if (method === 'recovery') {
      return (await this.repo.useRecoveryCode(user.id, hashCode(this.#o.codeKey, 'recovery', user.id, normalizeRecoveryCode(code))))
        ? undefined
        : 'wrong or used recovery code';
    }
    const state = await this.repo.totp(user.id);
    if (state.secretSealed === null) return 'TOTP is not set up';
    const step = totpStep(this.#o.box.openString(state.secretSealed, activeAad(user.id)), code);
    if (step === undefined) return 'wrong code';
    return (await this.repo.claimTotpStep(user.id, step)) ? undefined : 'replayed';
  }

  async #assertUnlocked(user: User, sourceAddress: string | null): Promise<void> {
    const until = await this.#o.lockout.lockedUntil([throttleKeys.mfa(user.id)]);
    if (!until) return;
    await this.#audit(user, 'mfa.locked_out', sourceAddress);
    throw lockedOut('MFA codes', until);
  }

  async #failed(user: User, method: MfaMethod, purpose: string, sourceAddress: string | null, reason: string): Promise<void> {
    await this.#audit(user, 'mfa.verify_failed', sourceAddress, { method, purpose, reason });
    const lockedUntil = await this.#o.lockout.fail(throttleKeys.mfa(user.id), this.#o.maxFailures);
    if (lockedUntil) await this.#audit(user, 'auth.lockout', sourceAddress, { scope: 'mfa', lockedUntil: lockedUntil.toISOString() });
  }

  #audit(user: User, action: string, sourceAddress: string | null, details?: Record<string, unknown>): Promise<void> {
    return this.#o.audit({ actor: user, action, targetType: 'user', targetId: user.id, targetName: user.email, projectId: null, sourceAddress, details });
  }
}

function invalid(message: string): GatehouseError {
  return new GatehouseError(ErrorCodes.MFA_INVALID, message);
}

const activeAad = (userId: string) => `user:${userId}:totp`;
const pendingAad = (userId: string) => `user:${userId}:totp-pending`;

function maskEmail(email: string): string {
  const [local, domain] = email.split('@');
  return `${local.slice(0, 1)}***@${domain ?? ''}`;
}
