/** The auth domain: who is signed in where, and the sign-in form's progress. */
import { create, type StateCreator } from 'zustand';
import type { AuthState, MfaMethod, SignInResult } from '../../../main/ipc/contract.ts';
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
}

const authSlice: StateCreator<AuthSlice> = (set, get) => ({
  auth: undefined,
  signingIn: false,
  error: undefined,
  mfa: undefined,
  emailSent: false,
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
      else if (result.state === 'signed-in') set({ auth: result, signingIn: false, mfa: undefined });
      else set({ signingIn: false, error: ENROLL_FIRST });
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
      else if (result.state === 'mfa-required') set({ mfa: result, signingIn: false });
      else set({ signingIn: false, mfa: undefined, error: ENROLL_FIRST });
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
    set({ auth, ...(auth.state === 'signed-in' ? { error: undefined } : {}) });
  },
});

/** Until the sign-in screen offers enrollment (auth.mfaEnrollStart with the challengeId). */
const ENROLL_FIRST: UiError = {
  code: 'GATEHOUSE_ERR_MFA_REQUIRED',
  message: 'Your organization requires an authenticator app and you have none yet: run "gatehouse login" in a terminal once to set it up, then sign in here.',
};

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
};
