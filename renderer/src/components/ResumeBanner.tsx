import type { ResumeReport } from '../../../main/ipc/contract.ts';
import { uiSelectors, useUiStore } from '../store/ui.ts';

const OUTCOME: Record<ResumeReport['sessions'][number]['outcome'], string> = {
  ok: 'still connected',
  reconnected: 'reconnected',
  reconnecting: 'reconnecting…',
  ended: 'ended',
};

/** What the app checked and did after the computer woke up or the network changed. */
export function ResumeBanner() {
  const report = useUiStore(uiSelectors.resume);
  if (!report) return null;
  const what = report.cause === 'resume' ? 'Your computer woke up' : 'The network changed';
  const ended = report.sessions.some((s) => s.outcome === 'ended');
  return (
    <div className={ended ? 'resume-banner notice warn' : 'resume-banner notice'} role="status" data-testid="resume-banner">
      <div>
        <strong>
          {what} at {new Date(report.at).toLocaleTimeString()}
        </strong>
        {report.sessions.length === 0 ? (
          <span>: no session was running; sign-in checked.</span>
        ) : (
          <>
            <span>: Gatehouse re-checked each session’s grant and tunnel.</span>
            <ul>
              {report.sessions.map((s) => (
                <li key={s.sessionId}>
                  {s.resourceName} / {s.accountName}: <strong>{OUTCOME[s.outcome]}</strong>
                  {s.reason ? ` (${s.reason})` : ''}
                  {s.outcome === 'ended' ? '. Open it under Sessions and click Access again.' : ''}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      <button type="button" className="icon" aria-label="Dismiss" onClick={() => useUiStore.getState().setResume(undefined)}>
        ×
      </button>
    </div>
  );
}
