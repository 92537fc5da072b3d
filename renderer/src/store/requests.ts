/** The approvals domain: access requests waiting for this person's decision. */
import { create } from 'zustand';
import type { AccessRequestInfo } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';

interface RequestsStore {
  pending: AccessRequestInfo[];
  status: 'idle' | 'loading' | 'loaded' | 'error';
  error: UiError | undefined;
  /** Per request: a decision in flight or its error. */
  deciding: Record<string, 'busy' | UiError | undefined>;
  load(): Promise<void>;
  decide(id: string, decision: 'approve' | 'deny', comment?: string): Promise<AccessRequestInfo | undefined>;
}

export const useRequestsStore = create<RequestsStore>()((set, get) => ({
  pending: [],
  status: 'idle',
  error: undefined,
  deciding: {},
  async load() {
    set({ status: get().status === 'loaded' ? 'loaded' : 'loading', error: undefined });
    try {
      set({ pending: await ipc['requests.list']({ status: 'pending' }), status: 'loaded' });
    } catch (err) {
      set({ status: 'error', error: toUiError(err) });
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

export const requestSelectors = {
  pending: (s: RequestsStore) => s.pending,
  status: (s: RequestsStore) => s.status,
  error: (s: RequestsStore) => s.error,
  deciding: (id: string) => (s: RequestsStore) => s.deciding[id],
};
