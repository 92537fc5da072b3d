/**
 * The sessions domain: live local proxies (by id, so one session's update re-renders only
 * its own row) and the person's session history with statements.
 */
import { create, type StateCreator } from 'zustand';
import type { AccessRequest, SessionEventInfo, SessionStatus, SessionSummary } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';

interface LiveSlice {
  ids: string[];
  byId: Record<string, SessionStatus>;
  starting: boolean;
  startError: UiError | undefined;
  loadLive(): Promise<void>;
  upsert(status: SessionStatus): void;
  start(req: AccessRequest): Promise<SessionStatus | undefined>;
  stop(sessionId: string): Promise<void>;
  dismiss(sessionId: string): void;
  clearStartError(): void;
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

const liveSlice: StateCreator<SessionsStore, [], [], LiveSlice> = (set, get) => ({
  ids: [],
  byId: {},
  starting: false,
  startError: undefined,
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
  async start(req) {
    set({ starting: true, startError: undefined });
    try {
      const status = await ipc['sessions.start'](req);
      get().upsert(status);
      set({ starting: false });
      return status;
    } catch (err) {
      set({ starting: false, startError: toUiError(err) });
      return undefined;
    }
  },
  async stop(sessionId) {
    const current = get().byId[sessionId];
    if (current && current.state !== 'ended') get().upsert({ ...current, state: 'ending' });
    await ipc['sessions.stop']({ sessionId });
  },
  dismiss(sessionId) {
    set((s) => {
      const byId = { ...s.byId };
      delete byId[sessionId];
      return { byId, ids: s.ids.filter((id) => id !== sessionId) };
    });
  },
  clearStartError: () => set({ startError: undefined }),
});

const historySlice: StateCreator<SessionsStore, [], [], HistorySlice> = (set) => ({
  history: [],
  historyStatus: 'idle',
  historyError: undefined,
  events: {},
  async loadHistory() {
    set({ historyStatus: 'loading', historyError: undefined });
    try {
      set({ history: await ipc['history.list']({ limit: 50 }), historyStatus: 'loaded' });
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
  activeCount: (s: SessionsStore) => s.ids.filter((id) => { const x = s.byId[id]; return x.state === 'ready' || x.state === 'starting'; }).length,
  starting: (s: SessionsStore) => s.starting,
  startError: (s: SessionsStore) => s.startError,
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
