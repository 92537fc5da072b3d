/**
 * Turns session status changes into notifications a person wants: a warning 5 minutes
 * before expiry, and a note when a session ends without them stopping it (expired,
 * revoked, ended elsewhere, failed). Plain Node: the Electron shell shows them natively,
 * the renderer shows them as toasts.
 */
import { describeTimeLeft } from '../../../proxy-core/src/local/client-errors.ts';
import { EXPIRY_WARNING_MS } from '../../../proxy-core/src/local/local-proxy.ts';
import type { AppNotification, SessionStatus } from '../contract.ts';

export { EXPIRY_WARNING_MS };

export interface SessionNotifier {
  /** Feed every status change here. */
  update(status: SessionStatus): void;
  close(): void;
}

export function createSessionNotifier(notify: (n: AppNotification) => void, opts: { warnBeforeMs?: number; now?: () => number } = {}): SessionNotifier {
  const warnBeforeMs = opts.warnBeforeMs ?? EXPIRY_WARNING_MS;
  const now = opts.now ?? Date.now;
  const warnings = new Map<string, NodeJS.Timeout>();
  const finished = new Set<string>();

  function label(s: SessionStatus): string {
    return `${s.resourceName} / ${s.accountName}`;
  }

  return {
    update(s) {
      if (finished.has(s.sessionId)) return;
      if (s.state === 'ready' && !warnings.has(s.sessionId)) {
        const expiresAt = Date.parse(s.expiresAt);
        const delay = Math.max(0, expiresAt - warnBeforeMs - now());
        const timer = setTimeout(() => {
          const left = describeTimeLeft(expiresAt - now());
          notify({
            kind: 'expiring',
            sessionId: s.sessionId,
            title: `Access to ${label(s)} ends soon`,
            body: `The session expires in ${left}. Finish your work or request access again.`,
          });
        }, delay);
        timer.unref?.();
        warnings.set(s.sessionId, timer);
      }
      if (s.state === 'ended' || s.state === 'error') {
        finished.add(s.sessionId);
        clearTimeout(warnings.get(s.sessionId));
        warnings.delete(s.sessionId);
        const n = endNotification(s, label(s));
        if (n) notify(n);
      }
    },
    close() {
      for (const t of warnings.values()) clearTimeout(t);
      warnings.clear();
    },
  };
}

function endNotification(s: SessionStatus, label: string): AppNotification | undefined {
  const base = { sessionId: s.sessionId };
  if (s.state === 'error')
    return { ...base, kind: 'error', title: `Access to ${label} failed`, body: s.error?.message ?? 'The local proxy stopped with an error.' };
  switch (s.endReason) {
    case 'stopped':
      return undefined; // the person clicked Stop
    case 'revoked':
      return { ...base, kind: 'revoked', title: `Access to ${label} was revoked`, body: 'An administrator ended this session; its connections were closed.' };
    case 'expired':
      return { ...base, kind: 'expired', title: `Access to ${label} expired`, body: 'The session reached its end time; its connections were closed.' };
    default:
      return { ...base, kind: 'ended', title: `Access to ${label} ended`, body: 'The session was ended; its connections were closed.' };
  }
}
