import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { SessionEventInfo, SessionSummary } from '../../../main/ipc/contract.ts';
import { formatBytes, formatDateTime } from '../shared/format.ts';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { HISTORY_LIMIT, sessionSelectors, useSessionsStore } from '../store/sessions.ts';

export const PAGE_SIZE = 50;
const STATUSES: SessionSummary['status'][] = ['active', 'ended', 'expired', 'revoked'];

interface Filters {
  status: string;
  resource: string;
  user: string;
  text: string;
}

function applyFilters(history: SessionSummary[], f: Filters): SessionSummary[] {
  const text = f.text.trim().toLowerCase();
  return history.filter(
    (h) =>
      (!f.status || h.status === f.status) &&
      (!f.resource || h.resource.name === f.resource) &&
      (!f.user || h.userEmail === f.user) &&
      (!text || `${h.resource.name} ${h.account.name} ${h.account.username} ${h.userEmail} ${h.id}`.toLowerCase().includes(text)),
  );
}

/**
 * Sessions as the server remembers them: the person's own, or (to an admin, who sees every
 * user's) "All sessions" with a user column. Filters, search, pages of 50; open one to see
 * its connections and statements.
 */
export function HistoryView() {
  const history = useSessionsStore(sessionSelectors.history);
  const status = useSessionsStore(sessionSelectors.historyStatus);
  const error = useSessionsStore(sessionSelectors.historyError);
  const me = useAuthStore(authSelectors.user);
  const all = me?.isAdmin === true;
  const [open, setOpen] = useState<string>();
  const [filters, setFilters] = useState<Filters>({ status: '', resource: '', user: '', text: '' });
  const [page, setPage] = useState(0);

  useEffect(() => {
    void useSessionsStore.getState().loadHistory();
  }, []);

  const resources = useMemo(() => [...new Set(history.map((h) => h.resource.name))].sort(), [history]);
  const users = useMemo(() => [...new Set(history.map((h) => h.userEmail))].sort(), [history]);
  const filtered = useMemo(() => applyFilters(history, filters), [history, filters]);
  const pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = filtered.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  const setFilter = (patch: Partial<Filters>) => {
    setFilters({ ...filters, ...patch });
    setPage(0);
  };
  const title = all ? 'All sessions' : 'My sessions';

  return (
    <section aria-labelledby="history-title">
      <header className="view-header">
        <div>
          <h2 id="history-title">{title}</h2>
          {all && <p className="muted small">As an administrator you see every user’s sessions.</p>}
        </div>
        <button type="button" onClick={() => void useSessionsStore.getState().loadHistory()}>
          Refresh
        </button>
      </header>
      <div className="filters" role="search" aria-label="Filter sessions">
        <label>
          Search
          <input type="search" value={filters.text} placeholder="resource, account, user, id" onChange={(e) => setFilter({ text: e.target.value })} />
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(e) => setFilter({ status: e.target.value })}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Resource
          <select value={filters.resource} onChange={(e) => setFilter({ resource: e.target.value })}>
            <option value="">Any</option>
            {resources.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        {all && (
          <label>
            User
            <select value={filters.user} onChange={(e) => setFilter({ user: e.target.value })}>
              <option value="">Anyone</option>
              {users.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {status === 'loading' && history.length === 0 && (
        <p className="muted" aria-busy="true">
          Loading…
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
      {status === 'loaded' && history.length === 0 && <p className="empty">No sessions yet.</p>}
      {status === 'loaded' && history.length > 0 && filtered.length === 0 && <p className="empty">No session matches these filters.</p>}
      {shown.length > 0 && (
        <div className={all ? 'history-cols with-user' : 'history-cols'} aria-hidden="true">
          <span>Resource / account</span>
          {all && <span>User</span>}
          <span>Status</span>
          <span>Started</span>
        </div>
      )}
      <ul className="history" aria-label={title}>
        {shown.map((h) => (
          <HistoryItem key={h.id} session={h} showUser={all} open={open === h.id} onToggle={() => setOpen(open === h.id ? undefined : h.id)} />
        ))}
      </ul>
      {filtered.length > PAGE_SIZE && (
        <nav className="pager" aria-label="Pages">
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
            Previous
          </button>
          <span className="small" data-testid="page-info">
            {current * PAGE_SIZE + 1}–{current * PAGE_SIZE + shown.length} of {filtered.length}
          </span>
          <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            Next
          </button>
        </nav>
      )}
      {history.length >= HISTORY_LIMIT && <p className="muted small">Showing the newest {HISTORY_LIMIT}; the web console’s Sessions page has older ones.</p>}
    </section>
  );
}

function HistoryItem({ session: h, showUser, open, onToggle }: { session: SessionSummary; showUser: boolean; open: boolean; onToggle: () => void }) {
  const panelId = `hist-${h.id}`;
  return (
    <li className="card history-item">
      <button type="button" className={showUser ? 'history-head with-user' : 'history-head'} aria-expanded={open} aria-controls={panelId} onClick={onToggle}>
        <span className="row-title">
          {h.resource.name} / {h.account.name}
        </span>
        {showUser && <span className="small history-user">{h.userEmail}</span>}
        <span className={`tag status-${h.status}`}>{h.status}</span>
        <span className="muted small">{formatDateTime(h.createdAt)}</span>
      </button>
      {open && (
        <div id={panelId}>
          <Activity sessionId={h.id} />
        </div>
      )}
    </li>
  );
}

type StatementEvent = Extract<SessionEventInfo, { type: 'statement' }>;

/** Connections (who connected from where, and when they left) and statements, in order. */
function Activity({ sessionId }: { sessionId: string }) {
  const events = useSessionsStore(sessionSelectors.events(sessionId));
  useEffect(() => {
    void useSessionsStore.getState().loadEvents(sessionId);
  }, [sessionId]);
  if (!events)
    return (
      <p className="muted small" aria-busy="true">
        Loading activity…
      </p>
    );
  if (events.length === 0) return <p className="muted small activity-empty">No connections were made.</p>;
  const redacted = events.some((e) => e.type === 'statement' && e.params === 'redacted');
  return (
    <>
      {redacted && (
        <p className="notice small redacted-note" role="note">
          Statement parameters are redacted: this resource’s policy does not record the values bound to statements.
        </p>
      )}
      <table className="statements">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Result</th>
            <th scope="col" className="num">
              ms
            </th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <ActivityRow key={e.seq} e={e} />
          ))}
        </tbody>
      </table>
    </>
  );
}

function ActivityRow({ e }: { e: SessionEventInfo }) {
  const time = <td className="small">{new Date(e.at).toLocaleTimeString()}</td>;
  switch (e.type) {
    case 'statement':
      return <StatementRow e={e} time={time} />;
    case 'connect':
      return (
        <tr className="conn-event">
          {time}
          <td className="small">
            <strong>Connected</strong>{' '}
            {e.applicationName ? (
              <>
                · <code>{e.applicationName}</code>
              </>
            ) : null}
            {e.clientAddress ? ` · from ${e.clientAddress}` : ''}
            {e.clientUser ? ` · OS user ${e.clientUser}` : ''}
          </td>
          <td className="small">{e.backendPid ? `backend ${e.backendPid}` : ''}</td>
          <td />
        </tr>
      );
    case 'connect-failed':
      return (
        <tr className="conn-event">
          {time}
          <td className="small">
            <strong>Connection refused</strong>
          </td>
          <td className="error-text small">
            {e.sqlstate} {e.message}
          </td>
          <td />
        </tr>
      );
    case 'disconnect':
      return (
        <tr className="conn-event">
          {time}
          <td className="small">
            <strong>Disconnected</strong> ({e.reason})
          </td>
          <td className="small">
            {formatBytes(e.bytesIn)} in · {formatBytes(e.bytesOut)} out
          </td>
          <td />
        </tr>
      );
  }
}

function StatementRow({ e, time }: { e: StatementEvent; time: ReactNode }) {
  return (
    <tr>
      {time}
      <td>
        <code className="sql">{e.sql}</code>
        {e.params === 'redacted' ? (
          <span className="tag redacted">parameters redacted</span>
        ) : e.params && e.params.length > 0 ? (
          <div className="muted small">parameters: {e.params.map((p) => (p === null ? 'NULL' : p)).join(', ')}</div>
        ) : null}
      </td>
      <td className={e.outcome.status === 'error' ? 'error-text small' : 'small'}>
        {e.outcome.status === 'ok' ? `${e.outcome.tag ?? 'OK'}` : `${e.outcome.sqlstate} ${e.outcome.message}`}
      </td>
      <td className="small num">{e.durationMs.toFixed(1)}</td>
    </tr>
  );
}
