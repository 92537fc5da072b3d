/**
 * What the tray menu shows, as plain data (testable without Electron): accounts with
 * Access, active sessions with time left and Stop, Open window, Quit.
 */
import type { AccountGroup, SessionStatus } from '../ipc/contract.ts';

export interface TrayActions {
  access(group: AccountGroup, account: string): void;
  stop(sessionId: string): void;
  copyUrl(url: string): void;
  openPsql(sessionId: string): void;
  openWindow: () => void;
  quit: () => void;
}

/** The subset of Electron's MenuItemConstructorOptions we use. */
export interface TrayItem {
  label?: string;
  type?: 'separator' | 'normal';
  enabled?: boolean;
  click?: () => void;
  submenu?: TrayItem[];
}

export function trayMenu(state: { signedIn: boolean; groups: AccountGroup[]; sessions: SessionStatus[]; now: number }, actions: TrayActions): TrayItem[] {
  const items: TrayItem[] = [];
  const live = state.sessions.filter((s) => s.state === 'ready' || s.state === 'starting');
  items.push({ label: live.length ? `Active sessions (${live.length})` : 'No active sessions', enabled: false });
  for (const s of live) {
    items.push({
      label: `${s.resourceName} / ${s.accountName} — ${timeLeft(s.expiresAt, state.now)} left`,
      submenu: [
        { label: `127.0.0.1:${s.port} · ${s.connections} connection${s.connections === 1 ? '' : 's'}`, enabled: false },
        { label: 'Copy URL', click: () => actions.copyUrl(s.url) },
        { label: 'Open in psql', click: () => actions.openPsql(s.sessionId) },
        { type: 'separator' },
        { label: 'Stop', click: () => actions.stop(s.sessionId) },
      ],
    });
  }
  items.push({ type: 'separator' });
  if (state.signedIn && state.groups.length) {
    items.push({
      label: 'Access',
      submenu: state.groups.map((g) => ({
        label: g.resource.name,
        submenu: g.accounts.map((a) => ({ label: a.name, enabled: !a.requireApproval, click: () => actions.access(g, a.name) })),
      })),
    });
    items.push({ type: 'separator' });
  }
  items.push({ label: 'Open Gatehouse', click: actions.openWindow });
  items.push({ label: live.length ? 'Quit (ends sessions)' : 'Quit', click: actions.quit });
  return items;
}

function timeLeft(expiresAt: string, now: number): string {
  const minutes = Math.max(0, Math.ceil((Date.parse(expiresAt) - now) / 60_000));
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
}
