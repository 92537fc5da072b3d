/** The UI domain: which view, which dialog, which session is open, toasts, and what happened on resume. */
import { create } from 'zustand';
import type { AccountGroup, AccountInfo, AppNotification, ResumeReport } from '../../../main/ipc/contract.ts';

export type View = 'accounts' | 'sessions' | 'approvals' | 'requests' | 'history' | 'profile' | 'settings';
export interface Toast {
  id: number;
  kind: 'info' | 'error' | AppNotification['kind'];
  title: string;
  body?: string;
}
/** The account the Access dialog is for; `againSessionId` when it starts one like an ended session. */
export interface AccessTarget {
  group: AccountGroup;
  account: AccountInfo;
  againSessionId?: string;
}

interface UiStore {
  view: View;
  accessTarget: AccessTarget | undefined;
  selectedSessionId: string | undefined;
  toasts: Toast[];
  /** The last report after the computer woke up or the network changed, until dismissed. */
  resume: ResumeReport | undefined;
  show(view: View): void;
  openAccess(target: AccessTarget): void;
  closeAccess(): void;
  selectSession(id: string | undefined): void;
  toast(t: Omit<Toast, 'id'>): void;
  dismissToast(id: number): void;
  setResume(report: ResumeReport | undefined): void;
}

let nextToast = 1;

export const useUiStore = create<UiStore>()((set) => ({
  view: 'accounts',
  accessTarget: undefined,
  selectedSessionId: undefined,
  toasts: [],
  resume: undefined,
  show: (view) => set({ view }),
  openAccess: (accessTarget) => set({ accessTarget }),
  closeAccess: () => set({ accessTarget: undefined }),
  selectSession: (selectedSessionId) => set({ selectedSessionId }),
  toast: (t) => {
    const id = nextToast++;
    set((s) => ({ toasts: [...s.toasts.slice(-3), { ...t, id }] }));
    setTimeout(() => set((s) => ({ toasts: s.toasts.filter((x) => x.id !== id) })), 8000);
  },
  dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((x) => x.id !== id) })),
  setResume: (resume) => set({ resume }),
}));

export const uiSelectors = {
  view: (s: UiStore) => s.view,
  accessTarget: (s: UiStore) => s.accessTarget,
  selectedSessionId: (s: UiStore) => s.selectedSessionId,
  toasts: (s: UiStore) => s.toasts,
  resume: (s: UiStore) => s.resume,
};
