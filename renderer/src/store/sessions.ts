/**
 * The sessions domain: live local proxies (by id, so one session's update re-renders only
 * its own row) and the person's session history with statements.
 */
import { create, type StateCreator } from 'zustand';
import type { MfaProof, SessionEventInfo, SessionStatus, SessionSummary } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';

interface LiveSlice {
  ids: string[];
  byId: Record<string, SessionStatus>;
  loadLive(): Promise<void>;
  upsert(status: SessionStatus): void;
  stop(sessionId: string): Promise<void>;
  /** Extends a running session in place; rejects with the server's refusal (over the policy's maximum…). */
  extend(sessionId: string, duration: string | number, mfa?: MfaProof): Promise<SessionStatus>;
  dismiss(sessionId: string): void;
}
interface HistorySlice {
  history: SessionSummary[];
  historyStatus: 'idle' | 'loading' | 'loaded' | 'error';
  historyError: UiError | undefined;
  events: Record<string, SessionEventInfo[]>;
  loadHistory(): Promise<void>;
  loadEvents(sessionId: string): Promise<void>;
}
type SessionsStore = LiveSlice & HistorySlice;

export const HISTORY_LIMIT = 500;

const liveSlice: StateCreator<SessionsStore, [], [], LiveSlice> = (set, get) => ({
  ids: [],
  byId: {},
  async loadLive() {
    const list = await ipc['sessions.list']();
    for (const s of list) get().upsert(s);
  },
  upsert(status) {
    set((s) => ({
      byId: { ...s.byId, [status.sessionId]: status },
      ids: s.ids.includes(status.sessionId) ? s.ids : [status.sessionId, ...s.ids],
    }));
  },
  async stop(sessionId) {
    const current = get().byId[sessionId];
    if (current && current.state !== 'ended') get().upsert({ ...current, state: 'ending' });
    await ipc['sessions.stop']({ sessionId });
  },
  async extend(sessionId, duration, mfa) {
    const status = await ipc['sessions.extend']({ sessionId, duration, ...(mfa ? { mfa } : {}) });
    get().upsert(status);
    return status;
  },
  dismiss(sessionId) {
    set((s) => {
      const byId = { ...s.byId };
      delete byId[sessionId];
      return { byId, ids: s.ids.filter((id) => id !== sessionId) };
    });
  },
});

const historySlice: StateCreator<SessionsStore, [], [], HistorySlice> = (set) => ({
  history: [],
  historyStatus: 'idle',
  historyError: undefined,
  events: {},
  async loadHistory() {
    set({ historyStatus: 'loading', historyError: undefined });
    try {
      // the newest 500 (the most one call answers); the view pages through them 50 at a time
      set({ history: await ipc['history.list']({ limit: HISTORY_LIMIT }), historyStatus: 'loaded' });
    } catch (err) {
      set({ historyStatus: 'error', historyError: toUiError(err) });
    }
  },
  async loadEvents(sessionId) {
    const all: SessionEventInfo[] = [];
    let after: number | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await ipc['history.events']({ sessionId, after, limit: 500 });
      all.push(...r.events);
      if (r.next === undefined || r.events.length === 0) break;
      after = r.next;
    }
    set((s) => ({ events: { ...s.events, [sessionId]: all } }));
  },
});

export const useSessionsStore = create<SessionsStore>()((...a) => ({ ...liveSlice(...a), ...historySlice(...a) }));

export const sessionSelectors = {
  ids: (s: SessionsStore) => s.ids,
  byId: (id: string) => (s: SessionsStore) => s.byId[id],
  activeCount: (s: SessionsStore) =>
    s.ids.filter((id) => {
      const x = s.byId[id];
      return x.state === 'ready' || x.state === 'starting';
    }).length,
  history: (s: SessionsStore) => s.history,
  historyStatus: (s: SessionsStore) => s.historyStatus,
  historyError: (s: SessionsStore) => s.historyError,
  events: (id: string) => (s: SessionsStore) => s.events[id],
  /** The running session for an account, if any. */
  runningFor: (projectId: string, resource: string, account: string) => (s: SessionsStore) =>
    s.ids.find((id) => {
      const x = s.byId[id];
      return x.projectId === projectId && x.resourceName === resource && x.accountName === account && (x.state === 'ready' || x.state === 'starting');
    }),
};
