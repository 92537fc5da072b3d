/** Who is signed in to the console, in which project and with which role; the sign-in steps. */
import { create } from 'zustand';
import type { MfaMethod } from '../../../../main/ipc/contract.ts';
import { api, ApiError, onSessionLost, publicCall, refreshSession, setAccessToken, signOutCall, type BrowserTokens } from '../api.ts';

export type Role = 'admin' | 'member' | 'auditor';
export interface Me {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
}
export interface ProjectRef {
  id: string;
  name: string;
  role: Role;
}

interface MfaAnswer {
  mfaRequired: true;
  mfaToken: string;
  methods: MfaMethod[];
  mfaEnrollmentRequired?: boolean;
}
type LoginAnswer = BrowserTokens | MfaAnswer;

export type Phase =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'mfa'; mfaToken: string; methods: MfaMethod[]; emailSent: boolean }
  | { kind: 'enroll'; mfaToken: string; qrDataUrl?: string; secret?: string }
  | { kind: 'recovery-codes'; codes: string[] }
  | { kind: 'signed-in' };

export interface UiError {
  code: string;
  message: string;
}

interface SessionStore {
  phase: Phase;
  busy: boolean;
  error: UiError | undefined;
  me: Me | undefined;
  projects: ProjectRef[];
  projectId: string | undefined;
  restore(): Promise<void>;
  signIn(email: string, password: string): Promise<void>;
  verify(method: MfaMethod, code: string): Promise<void>;
  sendEmailCode(): Promise<void>;
  startEnrollment(): Promise<void>;
  confirmEnrollment(code: string): Promise<void>;
  acceptInvitation(code: string, password: string, name: string): Promise<boolean>;
  finishRecoveryCodes(): Promise<void>;
  selectProject(id: string): void;
  signOut(): Promise<void>;
}

export function uiError(err: unknown): UiError {
  if (err instanceof ApiError) return { code: err.code, message: sentence(err.message) };
  return { code: 'GATEHOUSE_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function sentence(m: string): string {
  const s = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export const useSession = create<SessionStore>()((set, get) => {
  /** Tokens or the next MFA step, from any sign-in route. */
  const take = async (answer: LoginAnswer): Promise<void> => {
    if ('mfaRequired' in answer) {
      if (answer.mfaEnrollmentRequired) {
        set({ phase: { kind: 'enroll', mfaToken: answer.mfaToken }, error: undefined });
        await get().startEnrollment();
      } else {
        set({ phase: { kind: 'mfa', mfaToken: answer.mfaToken, methods: answer.methods, emailSent: false }, error: undefined });
      }
      return;
    }
    setAccessToken(answer.accessToken);
    await loadMe();
    set({ phase: answer.recoveryCodes ? { kind: 'recovery-codes', codes: answer.recoveryCodes } : { kind: 'signed-in' }, error: undefined });
  };

  const loadMe = async (): Promise<void> => {
    const me = await api<{ user: Me; projects: ProjectRef[] }>('GET', '/me');
    const remembered = sessionStorage.getItem('gatehouse.projectId');
    const projectId = me.projects.find((p) => p.id === remembered)?.id ?? me.projects[0]?.id;
    set({ me: me.user, projects: me.projects, projectId });
  };

  const step = async (fn: () => Promise<void>): Promise<boolean> => {
    set({ busy: true, error: undefined });
    try {
      await fn();
      return true;
    } catch (err) {
      set({ error: uiError(err) });
      return false;
    } finally {
      set({ busy: false });
    }
  };

  onSessionLost(() => {
    setAccessToken(undefined);
    set({
      phase: { kind: 'signed-out' },
      me: undefined,
      projects: [],
      error: { code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: 'Your sign-in expired. Sign in again.' },
    });
  });

  return {
    phase: { kind: 'loading' },
    busy: false,
    error: undefined,
    me: undefined,
    projects: [],
    projectId: undefined,
    async restore() {
      if (await refreshSession()) {
        try {
          await loadMe();
          set({ phase: { kind: 'signed-in' } });
          return;
        } catch {
          /* fall through to sign-in */
        }
      }
      set({ phase: { kind: 'signed-out' } });
    },
    signIn: (email, password) => step(async () => take(await publicCall<LoginAnswer>('POST', '/auth/cookie/login', { email, password }))).then(() => undefined),
    verify: (method, code) =>
      step(async () => {
        const phase = get().phase;
        if (phase.kind !== 'mfa') return;
        await take(await publicCall<LoginAnswer>('POST', '/auth/cookie/mfa/verify', { mfaToken: phase.mfaToken, method, code }));
      }).then(() => undefined),
    sendEmailCode: () =>
      step(async () => {
        const phase = get().phase;
        if (phase.kind !== 'mfa') return;
        await publicCall('POST', '/auth/mfa/email/send', { mfaToken: phase.mfaToken });
        set({ phase: { ...phase, emailSent: true } });
      }).then(() => undefined),
    startEnrollment: async () => {
      const phase = get().phase;
      if (phase.kind !== 'enroll') return;
      const r = await publicCall<{ secret: string; qrDataUrl: string }>('POST', '/auth/mfa/totp/enroll', { mfaToken: phase.mfaToken });
      set({ phase: { ...phase, qrDataUrl: r.qrDataUrl, secret: r.secret } });
    },
    confirmEnrollment: (code) =>
      step(async () => {
        const phase = get().phase;
        if (phase.kind !== 'enroll') return;
        await take(await publicCall<LoginAnswer>('POST', '/auth/cookie/mfa/totp/confirm', { mfaToken: phase.mfaToken, code }));
      }).then(() => undefined),
    acceptInvitation: (code, password, name) =>
      step(async () => take(await publicCall<LoginAnswer>('POST', '/auth/cookie/accept-invitation', { code, password, ...(name ? { name } : {}) }))),
    finishRecoveryCodes: () => {
      set({ phase: { kind: 'signed-in' } });
      return Promise.resolve();
    },
    selectProject: (id) => {
      sessionStorage.setItem('gatehouse.projectId', id);
      set({ projectId: id });
    },
    async signOut() {
      await signOutCall();
      set({ phase: { kind: 'signed-out' }, me: undefined, projects: [], error: undefined });
    },
  };
});

/** The signed-in user's role in the selected project (instance admins: admin). */
export function useRole(): Role | undefined {
  return useSession((s) => (s.me?.isAdmin ? 'admin' : s.projects.find((p) => p.id === s.projectId)?.role));
}
