/**
 * The access-requests domain: requests waiting for this person's decision (with a badge and a
 * notification when a new one arrives) and the person's own requests ("My requests").
 */
import { create } from 'zustand';
import type { AccessRequestInfo } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';
import { useAuthStore } from './auth.ts';
import { useUiStore } from './ui.ts';

type LoadStatus = 'idle' | 'loading' | 'loaded' | 'error';

interface RequestsStore {
  pending: AccessRequestInfo[];
  status: LoadStatus;
  error: UiError | undefined;
  mine: AccessRequestInfo[];
  mineStatus: LoadStatus;
  mineError: UiError | undefined;
  /** Per request: a decision in flight or its error. */
  deciding: Record<string, 'busy' | UiError | undefined>;
  /** Loads what waits for a decision; announces (and answers) the requests not seen in an earlier load. */
  load(): Promise<AccessRequestInfo[]>;
  loadMine(): Promise<void>;
  decide(id: string, decision: 'approve' | 'deny', comment?: string): Promise<AccessRequestInfo | undefined>;
}

/** Ids seen in an earlier load (undefined before the first one, so nothing already waiting counts as new). */
let seen: Set<string> | undefined;

export const useRequestsStore = create<RequestsStore>()((set, get) => ({
  pending: [],
  status: 'idle',
  error: undefined,
  mine: [],
  mineStatus: 'idle',
  mineError: undefined,
  deciding: {},
  async load() {
    set({ status: get().status === 'loaded' ? 'loaded' : 'loading', error: undefined });
    try {
      const pending = await ipc['requests.list']({ status: 'pending' });
      const fresh = seen ? pending.filter((r) => !seen!.has(r.id)) : [];
      seen = new Set([...(seen ?? []), ...pending.map((r) => r.id)]);
      set({ pending, status: 'loaded' });
      const me = useAuthStore.getState().auth;
      const meId = me?.state === 'signed-in' ? me.user.id : undefined;
      for (const r of fresh.filter((x) => x.userId !== meId)) {
        useUiStore.getState().toast({
          kind: 'info',
          title: `New access request from ${r.userEmail}`,
          body: `${r.resource.name} / ${r.account.name}: “${r.reason}” — see Approvals.`,
        });
      }
      return fresh;
    } catch (err) {
      set({ status: 'error', error: toUiError(err) });
      return [];
    }
  },
  async loadMine() {
    set({ mineStatus: get().mineStatus === 'loaded' ? 'loaded' : 'loading', mineError: undefined });
    try {
      const mine = await ipc['requests.list']({ mine: true });
      set({ mine: mine.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '')), mineStatus: 'loaded' });
    } catch (err) {
      set({ mineStatus: 'error', mineError: toUiError(err) });
    }
  },
  async decide(id, decision, comment) {
    set((s) => ({ deciding: { ...s.deciding, [id]: 'busy' } }));
    try {
      const channel = decision === 'approve' ? 'requests.approve' : 'requests.deny';
      const result = await ipc[channel]({ id, ...(comment ? { comment } : {}) });
      set((s) => ({
        deciding: { ...s.deciding, [id]: undefined },
        pending: result.status === 'pending' ? s.pending.map((r) => (r.id === id ? result : r)) : s.pending.filter((r) => r.id !== id),
      }));
      return result;
    } catch (err) {
      set((s) => ({ deciding: { ...s.deciding, [id]: toUiError(err) } }));
      return undefined;
    }
  },
}));

/** Forget what was seen (a different person signed in). */
export function resetSeenRequests(): void {
  seen = undefined;
}

export const requestSelectors = {
  pending: (s: RequestsStore) => s.pending,
  status: (s: RequestsStore) => s.status,
  error: (s: RequestsStore) => s.error,
  mine: (s: RequestsStore) => s.mine,
  mineStatus: (s: RequestsStore) => s.mineStatus,
  mineError: (s: RequestsStore) => s.mineError,
  deciding: (id: string) => (s: RequestsStore) => s.deciding[id],
  /** How many pending requests this person may decide (not their own). */
  decidableCount: (meId: string | undefined) => (s: RequestsStore) => s.pending.filter((r) => r.userId !== meId).length,
  /** How many of the person's own requests are still pending. */
  minePendingCount: (s: RequestsStore) => s.mine.filter((r) => r.status === 'pending').length,
};
