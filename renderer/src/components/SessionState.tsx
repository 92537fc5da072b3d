/** How a session's state shows in the list and the panel: the dot, its label, the time left. */
import type { SessionStatus } from '../../../main/ipc/contract.ts';
import { formatTimeLeft } from '../shared/format.ts';
import { useCountdown } from '../lib/use-countdown.ts';

export function TimeLeft({ expiresAt }: { expiresAt: string }) {
  const remaining = useCountdown(expiresAt);
  return <span className="time-left">{formatTimeLeft(expiresAt, Date.parse(expiresAt) - remaining)} left</span>;
}

/** What the person is told: never "Ready" while the tunnel or the gateway is down. */
export type ShownState = 'starting' | 'ready' | 'reconnecting' | 'gateway-offline' | 'ending' | 'ended' | 'failed';

export interface SessionView {
  state: ShownState;
  label: string;
  /** Why (the reason it dropped or ended, and who revoked it), when known. */
  detail?: string;
}

/** "the tunnel dropped" → "The tunnel dropped." */
function sentence(text: string): string {
  const t = text.trim();
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export function describeSession(s: Pick<SessionStatus, 'state' | 'endReason' | 'connection' | 'error'>): SessionView {
  const c = s.connection;
  if (s.state === 'ended' || c?.state === 'ended') {
    const label = s.endReason === 'stopped' ? 'Stopped' : s.endReason === 'revoked' ? 'Revoked' : s.endReason === 'expired' ? 'Expired' : 'Ended';
    const by = c?.revokedBy ? `Revoked by ${c.revokedBy}` : undefined;
    const detail = [by, c?.reason].filter(Boolean).join(': ') || undefined;
    return { state: 'ended', label, ...(detail ? { detail } : {}) };
  }
  if (s.state === 'starting') return { state: 'starting', label: 'Starting…' };
  if (s.state === 'ending') return { state: 'ending', label: 'Stopping…' };
  if (s.state === 'error') return { state: 'failed', label: 'Failed', ...(s.error ? { detail: s.error.message } : {}) };
  if (c?.state === 'reconnecting')
    return {
      state: 'reconnecting',
      label: 'Reconnecting…',
      detail: c.reason ? sentence(c.reason) : 'The tunnel to Gatehouse dropped; new connections wait until it is back.',
    };
  if (c?.state === 'gateway-offline')
    return {
      state: 'gateway-offline',
      label: 'Gateway offline',
      detail: c.reason ? sentence(c.reason) : 'The gateway in front of the database is not linked to Gatehouse; connections fail until it is back.',
    };
  return { state: 'ready', label: 'Ready' };
}

export function StateDot({ state }: { state: ShownState }) {
  return <span className={`dot ${state}`} aria-hidden="true" />;
}
