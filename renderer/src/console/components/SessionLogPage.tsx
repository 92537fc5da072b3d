/**
 * One session's log: every event in order, paged from the server as the list scrolls and
 * rendered as virtualized rows (a 100,000-event session stays light), search within the
 * session (server-side), new events while it runs, and a JSON-lines export.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, useRole, type UiError } from '../store/session.ts';
import type { SessionRow } from './SessionsPage.tsx';
import { download, ErrorText, Link, StatusTag, usePolling, when } from './ui.tsx';

interface LogEvent {
  seq: number;
  connectionId: string;
  at: string;
  type: string;
  sql?: string;
  durationMs?: number;
  params?: (string | null)[] | 'redacted';
  truncated?: true;
  applicationName?: string;
  reason?: string;
  sqlstate?: string;
  message?: string;
  outcome?: { status: 'ok'; tag?: string; rows?: number } | { status: 'error'; sqlstate: string; message: string };
}
interface Page {
  events: LogEvent[];
  next?: number;
}

const PAGE = 500;
const ROW_HEIGHT = 34;

function describe(e: LogEvent): string {
  if (e.type === 'statement') return e.sql ?? '';
  if (e.type === 'connect') return `connected${e.applicationName ? ` (${e.applicationName})` : ''}`;
  if (e.type === 'disconnect') return `disconnected: ${e.reason ?? ''}`;
  if (e.type === 'connect-failed') return `connection refused: ${e.sqlstate ?? ''} ${e.message ?? ''}`;
  return e.type;
}

function outcome(e: LogEvent): string {
  if (!e.outcome) return '';
  if (e.outcome.status === 'error') return `${e.outcome.sqlstate} ${e.outcome.message}`;
  return `${e.outcome.tag ?? 'ok'}${e.outcome.rows !== undefined ? ` · ${e.outcome.rows} rows` : ''}`;
}

export function SessionLogPage({ id }: { id: string }) {
  const role = useRole();
  const [session, setSession] = useState<SessionRow>();
  const [query, setQuery] = useState('');
  const [searching, setSearching] = useState<string>();
  // One list per (session, search): `next` is where the next page starts, undefined at the end.
  const [log, setLog] = useState<{ events: LogEvent[]; next: number | undefined }>({ events: [], next: 0 });
  const [error, setError] = useState<UiError>();
  const [exporting, setExporting] = useState(false);
  const [selected, setSelected] = useState<LogEvent>();
  const generation = useRef(0);
  const busy = useRef(false);
  const parentRef = useRef<HTMLDivElement>(null);
  const { events, next } = log;

  const base = searching ? `/sessions/${id}/logs/search?q=${encodeURIComponent(searching)}&` : `/sessions/${id}/logs?`;
  /** Appends the page after `after`; answers for an older list (search changed) are dropped. */
  const fetchAfter = useCallback(
    async (after: number, live: boolean) => {
      if (busy.current) return;
      busy.current = true;
      const mine = generation.current;
      try {
        const page = await api<Page>('GET', `${base}after=${after}&limit=${PAGE}`);
        if (mine !== generation.current) return;
        setLog((l) => ({ events: [...l.events, ...page.events], next: live && page.next === undefined ? undefined : page.next }));
      } catch (err) {
        setError(uiError(err));
      } finally {
        busy.current = false;
      }
    },
    [base],
  );

  useEffect(() => {
    void api<{ session: SessionRow }>('GET', `/sessions/${id}`).then(
      (r) => setSession(r.session),
      (err) => setError(uiError(err)),
    );
  }, [id]);
  useEffect(() => {
    generation.current += 1;
    busy.current = false;
    setLog({ events: [], next: 0 });
  }, [base]);
  useEffect(() => {
    if (events.length === 0 && next === 0) void fetchAfter(0, false);
  }, [events.length, next, fetchAfter]);

  // While the session runs and the whole log is shown, fetch what was appended since.
  usePolling(
    async () => {
      if (searching || next !== undefined || session?.status !== 'active') return;
      await fetchAfter(events.at(-1)?.seq ?? 0, true);
      const fresh = (await api<{ session: SessionRow }>('GET', `/sessions/${id}`)).session;
      setSession(fresh);
    },
    2000,
    [id, searching, next, session?.status, events.length],
  );

  // eslint-disable-next-line react-hooks/incompatible-library -- a notice, not a fault: the build has no React Compiler, and TanStack Virtual re-renders the list on scroll by design
  const virtualizer = useVirtualizer({ count: events.length, getScrollElement: () => parentRef.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (next !== undefined && next > 0 && lastIndex >= events.length - 50) void fetchAfter(next, false);
  }, [lastIndex, events.length, next, fetchAfter]);

  const search = (e: FormEvent) => {
    e.preventDefault();
    setSearching(query.trim() || undefined);
  };
  const exportAll = async () => {
    setExporting(true);
    try {
      const lines: string[] = [];
      let after = 0;
      for (;;) {
        const page = await api<Page>('GET', `/sessions/${id}/logs?after=${after}&limit=1000`);
        for (const ev of page.events) lines.push(JSON.stringify(ev));
        if (page.next === undefined) break;
        after = page.next;
      }
      download(`session-${id}.jsonl`, `${lines.join('\n')}\n`);
    } catch (err) {
      setError(uiError(err));
    } finally {
      setExporting(false);
    }
  };
  const revoke = () => {
    if (!session || !window.confirm(`Revoke ${session.userEmail}’s session? Their connections close at once.`)) return;
    void api<{ session: SessionRow }>('POST', `/sessions/${id}/revoke`).then(
      (r) => setSession(r.session),
      (err) => setError(uiError(err)),
    );
  };

  return (
    <section aria-labelledby="log-title" className="log-page">
      <p className="small">
        <Link to="/sessions">← Sessions</Link>
      </p>
      <div className="view-header">
        <h1 id="log-title">Session log{session ? `: ${session.userEmail} on ${session.resource.name} / ${session.account.name}` : ''}</h1>
        <div className="actions">
          {session && <StatusTag status={session.status} />}
          <button type="button" onClick={() => void exportAll()} disabled={exporting}>
            {exporting ? 'Exporting…' : 'Export JSON lines'}
          </button>
          {session?.status === 'active' && role === 'admin' && (
            <button type="button" className="danger" onClick={revoke}>
              Revoke
            </button>
          )}
        </div>
      </div>
      {session && (
        <p className="muted small">
          Started {when(session.createdAt)} · {session.endedAt ? `ended ${when(session.endedAt)}` : `expires ${when(session.expiresAt)}`}
        </p>
      )}
      <form className="filters" role="search" onSubmit={search}>
        <label>
          Search this session
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="SQL text or SQLSTATE" />
        </label>
        <button type="submit">Search</button>
        {searching && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setQuery('');
              setSearching(undefined);
            }}
          >
            Show all
          </button>
        )}
        <span className="muted small" role="status">
          {events.length} event{events.length === 1 ? '' : 's'}
          {next !== undefined ? ' loaded (more as you scroll)' : ''}
          {searching ? ` matching “${searching}”` : ''}
        </span>
      </form>
      <ErrorText error={error} />
      <div className="log-table" role="table" aria-label="Session events" aria-rowcount={events.length + 1}>
        <div role="rowgroup">
          <div role="row" className="log-row log-head" aria-rowindex={1}>
            <span role="columnheader">Time</span>
            <span role="columnheader">Conn.</span>
            <span role="columnheader">Statement / event</span>
            <span role="columnheader" className="num">
              ms
            </span>
            <span role="columnheader">Outcome</span>
          </div>
        </div>
        <div ref={parentRef} className="log-scroll" role="rowgroup" tabIndex={0} aria-label="Events (scroll for more)">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((v) => {
              const e = events[v.index];
              const failed = e.outcome?.status === 'error' || e.type === 'connect-failed';
              return (
                <div
                  key={e.seq}
                  role="row"
                  aria-rowindex={v.index + 2}
                  className={`log-row${failed ? ' failed' : ''}`}
                  data-seq={e.seq}
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` }}
                >
                  <span role="cell" className="time">
                    {new Date(e.at).toLocaleTimeString(undefined, { hour12: false })}
                  </span>
                  <span role="cell" className="conn">
                    {e.connectionId.slice(0, 6)}
                  </span>
                  <span role="cell" className="sql">
                    <button type="button" className="link row-open" title={describe(e)} aria-pressed={selected?.seq === e.seq} onClick={() => setSelected(e)}>
                      {describe(e)}
                    </button>
                  </span>
                  <span role="cell" className="num">
                    {e.durationMs ?? ''}
                  </span>
                  <span role="cell" className="outcome" title={outcome(e)}>
                    {outcome(e)}
                  </span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {events.length === 0 && next === undefined && <p className="empty">No events{searching ? ' match' : ' yet'}.</p>}
      {selected && (
        <section className="card event-detail" aria-label="Event details">
          <div className="dialog-head">
            <h2>Event {selected.seq}</h2>
            <button type="button" className="icon" aria-label="Close details" onClick={() => setSelected(undefined)}>
              ×
            </button>
          </div>
          <pre className="sql-full" data-testid="event-sql">
            {describe(selected)}
          </pre>
          <dl className="details">
            <div>
              <dt>Time</dt>
              <dd>{when(selected.at)}</dd>
            </div>
            <div>
              <dt>Connection</dt>
              <dd>
                <code>{selected.connectionId}</code>
              </dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{selected.durationMs === undefined ? '—' : `${selected.durationMs} ms`}</dd>
            </div>
            <div>
              <dt>Outcome</dt>
              <dd>{outcome(selected) || '—'}</dd>
            </div>
          </dl>
          {selected.params !== undefined && (
            <p className="small">
              Parameters: <code>{selected.params === 'redacted' ? 'redacted (not recorded)' : JSON.stringify(selected.params)}</code>
            </p>
          )}
          {selected.truncated && <p className="small muted">The statement was cut to the recording limit.</p>}
        </section>
      )}
    </section>
  );
}
