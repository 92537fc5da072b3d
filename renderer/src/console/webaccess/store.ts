/**
 * The browser's web sessions: the ones this tab started (kept in sessionStorage so a reload
 * finds them again), and how each ended. An ended session throws its views out with the
 * reason; nothing of it is kept beyond the tab.
 */
import { create } from 'zustand';
import type { WebSessionInfo } from './client.ts';

export type WebView = 'explorer' | 'terminal';
/** What a view calls with an error from the server: true when the error ended the session (the view is left). */
export type EndedCheck = (err: unknown) => boolean;
export interface Ended {
  reason: string;
  message: string;
}

interface WebSessionsStore {
  sessions: Record<string, WebSessionInfo>;
  /** Set when a session ended while the user was in it: the notice shown on My access. */
  ended: Ended | undefined;
  add(info: WebSessionInfo): void;
  remove(id: string): void;
  end(id: string, ended: Ended): void;
  dismiss(): void;
}

const KEY = 'gatehouse.webSessions';

function load(): Record<string, WebSessionInfo> {
  try {
    const all = JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Record<string, WebSessionInfo>;
    return Object.fromEntries(Object.entries(all).filter(([, s]) => Date.parse(s.expiresAt) > Date.now()));
  } catch {
    return {};
  }
}

function save(sessions: Record<string, WebSessionInfo>): void {
  sessionStorage.setItem(KEY, JSON.stringify(sessions));
}

export const useWebSessions = create<WebSessionsStore>()((set, get) => ({
  sessions: load(),
  ended: undefined,
  add: (info) => {
    const sessions = { ...get().sessions, [info.id]: info };
    save(sessions);
    set({ sessions, ended: undefined });
  },
  remove: (id) => {
    const { [id]: _gone, ...sessions } = get().sessions;
    save(sessions);
    set({ sessions });
  },
  end: (id, ended) => {
    get().remove(id);
    set({ ended });
  },
  dismiss: () => set({ ended: undefined }),
}));

/** The sentence a user reads when a session ends under them. */
export function endedMessage(reason: string, message?: string): Ended {
  const known: Record<string, string> = {
    revoked: 'Your web session was revoked by an administrator. Start a new one from My access if you still need it.',
    expired: 'Your web session expired (its duration is over). Start a new one from My access.',
    idle: 'Your web session ended after being idle too long. Start a new one from My access.',
    ended: 'Your web session ended.',
    elsewhere: 'This web session is held by another server of this deployment; start a new one.',
    lost: 'Your web session lost its connection to the database. Start a new one from My access.',
    shutdown: 'The server restarted and ended your web session. Start a new one from My access.',
  };
  if (reason === 'ended' && message) return { reason, message: `Your web session ended: ${message.replace(/\.$/, '')}.` };
  return { reason, message: known[reason] ?? message ?? 'Your web session ended.' };
}

export function viewPath(id: string, view: WebView): string {
  return `/web/${encodeURIComponent(id)}/${view === 'explorer' ? 'data' : 'sql'}`;
}
