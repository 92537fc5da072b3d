import { useEffect, useState } from 'react';
import type { SessionEventInfo, SessionSummary } from '../../../main/ipc/contract.ts';
import { formatDateTime } from '../shared/format.ts';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';

/** The person's recent sessions; open one to see its statements. */
export function HistoryView() {
  const history = useSessionsStore(sessionSelectors.history);
  const status = useSessionsStore(sessionSelectors.historyStatus);
  const error = useSessionsStore(sessionSelectors.historyError);
  const [open, setOpen] = useState<string>();

  useEffect(() => { void useSessionsStore.getState().loadHistory(); }, []);

  return (
    <section aria-labelledby="history-title">
      <header className="view-header">
        <h2 id="history-title">My sessions</h2>
        <button type="button" onClick={() => void useSessionsStore.getState().loadHistory()}>Refresh</button>
      </header>
      {status === 'loading' && history.length === 0 && <p className="muted" aria-busy="true">Loading…</p>}
      {error && <p className="error" role="alert">{error.message}</p>}
      {status === 'loaded' && history.length === 0 && <p className="empty">No sessions yet.</p>}
      <ul className="history">
        {history.map((h) => (
          <HistoryItem key={h.id} session={h} open={open === h.id} onToggle={() => setOpen(open === h.id ? undefined : h.id)} />
        ))}
      </ul>
    </section>
  );
}

function HistoryItem({ session: h, open, onToggle }: { session: SessionSummary; open: boolean; onToggle: () => void }) {
  const panelId = `hist-${h.id}`;
  return (
    <li className="card history-item">
      <button type="button" className="history-head" aria-expanded={open} aria-controls={panelId} onClick={onToggle}>
        <span className="row-title">{h.resource.name} / {h.account.name}</span>
        <span className={`tag status-${h.status}`}>{h.status}</span>
        <span className="muted small">{formatDateTime(h.createdAt)}</span>
      </button>
      {open && <div id={panelId}><Statements sessionId={h.id} /></div>}
    </li>
  );
}

function Statements({ sessionId }: { sessionId: string }) {
  const events = useSessionsStore(sessionSelectors.events(sessionId));
  useEffect(() => { void useSessionsStore.getState().loadEvents(sessionId); }, [sessionId]);
  if (!events) return <p className="muted small" aria-busy="true">Loading statements…</p>;
  const statements = events.filter((e): e is Extract<SessionEventInfo, { type: 'statement' }> => e.type === 'statement');
  if (statements.length === 0) return <p className="muted small">No statements were run.</p>;
  return (
    <table className="statements">
      <thead><tr><th scope="col">Time</th><th scope="col">Statement</th><th scope="col">Result</th><th scope="col">ms</th></tr></thead>
      <tbody>
        {statements.map((e) => (
          <tr key={e.seq}>
            <td className="small">{new Date(e.at).toLocaleTimeString()}</td>
            <td><code className="sql">{e.sql}</code></td>
            <td className={e.outcome.status === 'error' ? 'error-text small' : 'small'}>
              {e.outcome.status === 'ok' ? `${e.outcome.tag ?? 'OK'}` : `${e.outcome.sqlstate} ${e.outcome.message}`}
            </td>
            <td className="small num">{e.durationMs.toFixed(1)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
