/** The UI domain: which view, which dialog, which session is open, and toasts. */
import { create } from 'zustand';
import type { AccountGroup, AccountInfo, AppNotification } from '../../../main/ipc/contract.ts';

export type View = 'accounts' | 'sessions' | 'approvals' | 'history' | 'settings';
export interface Toast { id: number; kind: 'info' | 'error' | AppNotification['kind']; title: string; body?: string }
export interface AccessTarget { group: AccountGroup; account: AccountInfo }

interface UiStore {
  view: View;
  accessTarget: AccessTarget | undefined;
  selectedSessionId: string | undefined;
  toasts: Toast[];
  show(view: View): void;
  openAccess(target: AccessTarget): void;
  closeAccess(): void;
  selectSession(id: string | undefined): void;
  toast(t: Omit<Toast, 'id'>): void;
  dismissToast(id: number): void;
}

let nextToast = 1;

export const useUiStore = create<UiStore>()((set) => ({
  view: 'accounts',
  accessTarget: undefined,
  selectedSessionId: undefined,
  toasts: [],
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
}));

export const uiSelectors = {
  view: (s: UiStore) => s.view,
  accessTarget: (s: UiStore) => s.accessTarget,
  selectedSessionId: (s: UiStore) => s.selectedSessionId,
  toasts: (s: UiStore) => s.toasts,
};
