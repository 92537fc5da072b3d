/** The auth domain: who is signed in where, and the sign-in form's progress. */
import { create, type StateCreator } from 'zustand';
import type { AuthState, MfaEnrollment, MfaMethod, SignInResult } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';

interface AuthSlice {
  /** undefined until the main process has answered once. */
  auth: AuthState | undefined;
  signingIn: boolean;
  error: UiError | undefined;
  mfa: Extract<SignInResult, { state: 'mfa-required' }> | undefined;
  init: () => Promise<void>;
  signIn: (form: { serverUrl: string; email: string; password: string }) => Promise<void>;
  /** What the sign-in's MFA step shows: "code sent" after an email went out. */
  emailSent: boolean;
  submitMfa: (method: MfaMethod, code: string) => Promise<void>;
  sendEmailCode: () => Promise<void>;
  cancelMfa: () => void;
  signOut: () => Promise<void>;
  setAuth: (auth: AuthState) => void;
  /**
   * TOTP enrollment in the app: during a sign-in the organization requires it for
   * (`challengeId`), or from the profile page (signed in).
   */
  enroll: { challengeId?: string; enrollment?: MfaEnrollment } | undefined;
  startEnrollment: (challengeId?: string) => Promise<void>;
  confirmEnrollment: (code: string) => Promise<boolean>;
  cancelEnrollment: () => void;
  /** Recovery codes just issued, shown once until the person says they saved them. */
  recoveryCodes: string[] | undefined;
  dismissRecoveryCodes: () => void;
}

const authSlice: StateCreator<AuthSlice> = (set, get) => ({
  auth: undefined,
  signingIn: false,
  error: undefined,
  mfa: undefined,
  emailSent: false,
  enroll: undefined,
  recoveryCodes: undefined,
  async init() {
    try {
      set({ auth: await ipc['auth.current']() });
    } catch (err) {
      set({ auth: { state: 'signed-out' }, error: toUiError(err) });
    }
  },
  async signIn(form) {
    set({ signingIn: true, error: undefined });
    try {
      const result = await ipc['auth.signIn'](form);
      if (result.state === 'mfa-required') set({ mfa: result, signingIn: false, emailSent: false });
      else if (result.state === 'mfa-enrollment-required') await get().startEnrollment(result.challengeId);
      else set({ auth: result, signingIn: false, mfa: undefined });
    } catch (err) {
      set({ signingIn: false, error: toUiError(err) });
    }
  },
  async submitMfa(method, code) {
    const mfa = get().mfa;
    if (!mfa) return;
    set({ signingIn: true, error: undefined });
    try {
      const result = await ipc['auth.submitMfa']({ challengeId: mfa.challengeId, method, code });
      if (result.state === 'signed-in') set({ auth: result, mfa: undefined, signingIn: false });
      else if (result.state === 'mfa-enrollment-required') {
        set({ mfa: undefined });
        await get().startEnrollment(result.challengeId);
      } else set({ mfa: result, signingIn: false });
    } catch (err) {
      const error = toUiError(err);
      // a wrong code may be retried; an expired challenge or a lockout starts over
      set({ signingIn: false, error, ...(error.code === 'GATEHOUSE_ERR_MFA_INVALID' ? {} : { mfa: undefined }) });
    }
  },
  async sendEmailCode() {
    const mfa = get().mfa;
    if (!mfa) return;
    set({ error: undefined });
    try {
      await ipc['auth.sendEmailCode']({ challengeId: mfa.challengeId });
      set({ emailSent: true });
    } catch (err) {
      set({ error: toUiError(err) });
    }
  },
  cancelMfa() {
    set({ mfa: undefined, error: undefined, emailSent: false });
  },
  async signOut() {
    try {
      await ipc['auth.signOut']();
    } catch (err) {
      set({ error: toUiError(err) });
    }
  },
  setAuth(auth) {
    set({ auth, ...(auth.state === 'signed-in' ? { error: undefined } : { enroll: undefined }) });
  },
  async startEnrollment(challengeId) {
    set({ enroll: { ...(challengeId ? { challengeId } : {}) }, signingIn: true, error: undefined });
    try {
      const enrollment = await ipc['auth.mfaEnrollStart'](challengeId ? { challengeId } : {});
      set({ enroll: { ...(challengeId ? { challengeId } : {}), enrollment }, signingIn: false });
    } catch (err) {
      set({ signingIn: false, error: toUiError(err), ...(challengeId ? { enroll: undefined } : {}) });
    }
  },
  async confirmEnrollment(code) {
    const enroll = get().enroll;
    if (!enroll) return false;
    set({ signingIn: true, error: undefined });
    try {
      const done = await ipc['auth.mfaEnrollConfirm']({ code, ...(enroll.challengeId ? { challengeId: enroll.challengeId } : {}) });
      set({ enroll: undefined, signingIn: false, recoveryCodes: done.recoveryCodes, ...(done.auth ? { auth: done.auth } : {}) });
      return true;
    } catch (err) {
      set({ signingIn: false, error: toUiError(err) });
      return false;
    }
  },
  cancelEnrollment() {
    set({ enroll: undefined, error: undefined, signingIn: false });
  },
  dismissRecoveryCodes() {
    set({ recoveryCodes: undefined });
  },
});

export const useAuthStore = create<AuthSlice>()(authSlice);

export const authSelectors = {
  auth: (s: AuthSlice) => s.auth,
  isSignedIn: (s: AuthSlice) => s.auth?.state === 'signed-in',
  user: (s: AuthSlice) => (s.auth?.state === 'signed-in' ? s.auth.user : undefined),
  serverUrl: (s: AuthSlice) => s.auth?.serverUrl,
  expired: (s: AuthSlice) => s.auth?.state === 'signed-out' && s.auth.reason === 'expired',
  signingIn: (s: AuthSlice) => s.signingIn,
  error: (s: AuthSlice) => s.error,
  mfa: (s: AuthSlice) => s.mfa,
  emailSent: (s: AuthSlice) => s.emailSent,
  enroll: (s: AuthSlice) => s.enroll,
  recoveryCodes: (s: AuthSlice) => s.recoveryCodes,
};
