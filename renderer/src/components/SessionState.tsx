/** How a session's state shows in the list and the panel: the dot, its label, the time left. */
import { formatTimeLeft } from '../shared/format.ts';
import { useCountdown } from '../lib/use-countdown.ts';

export function TimeLeft({ expiresAt }: { expiresAt: string }) {
  const remaining = useCountdown(expiresAt);
  return <span className="time-left">{formatTimeLeft(expiresAt, Date.parse(expiresAt) - remaining)} left</span>;
}

export function StateDot({ state }: { state: string }) {
  return <span className={`dot ${state}`} aria-hidden="true" />;
}

export function stateLabel(state: string, endReason?: string): string {
  if (state === 'ended') return endReason === 'stopped' ? 'Stopped' : endReason === 'revoked' ? 'Revoked' : endReason === 'expired' ? 'Expired' : 'Ended';
  return { starting: 'Starting…', ready: 'Ready', ending: 'Stopping…', error: 'Failed' }[state] ?? state;
}
