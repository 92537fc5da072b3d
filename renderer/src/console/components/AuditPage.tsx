/** Audit: filters, paging from the server, JSON-lines export and the chain's verification status. */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, useSession, type UiError } from '../store/session.ts';
import { download, ErrorText, when } from './ui.tsx';

interface AuditEvent {
  seq: number;
  at: string;
  actor: { kind: string; email?: string | null; userId?: string | null };
  action: string;
  target: { kind: string; id: string | null; name?: string | null };
  sourceAddress: string | null;
  details?: unknown;
}
interface Verdict {
  state: 'ok' | 'broken';
  count: number;
  checkedAt: string;
  event?: { seq: number; action: string };
  reason?: string;
}
interface Filters {
  actor: string;
  action: string;
  from: string;
  to: string;
}

const ROW = 34;

/** "gateway eu-west-1": the target's kind and its name (from the event's details when the target has none). */
function targetLabel(e: AuditEvent): string {
  const named = e.details && typeof e.details === 'object' && 'name' in e.details ? String(e.details.name) : undefined;
  return `${e.target.kind} ${e.target.name ?? named ?? e.target.id ?? ''}`.trim();
}

function queryOf(projectId: string | undefined, f: Filters, after: number, limit: number): string {
  const q = new URLSearchParams({ after: String(after), limit: String(limit) });
  if (projectId) q.set('projectId', projectId);
  if (f.actor.trim()) q.set('actor', f.actor.trim());
  if (f.action.trim()) q.set('action', f.action.trim());
  if (f.from) q.set('from', new Date(f.from).toISOString());
  if (f.to) q.set('to', new Date(f.to).toISOString());
  return q.toString();
}

export function AuditPage() {
  const isInstanceAdmin = useSession((s) => s.me?.isAdmin ?? false);
  const projectId = useSession((s) => s.projectId);
  const scope = isInstanceAdmin ? undefined : projectId;
  const [draft, setDraft] = useState<Filters>({ actor: '', action: '', from: '', to: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState<number | null>(0);
  const [verdict, setVerdict] = useState<Verdict>();
  const [error, setError] = useState<UiError>();
  const loading = useRef(false);
  const parentRef = useRef<HTMLDivElement>(null);

  const loadMore = async (from: number | null, reset: boolean) => {
    if (loading.current || from === null) return;
    loading.current = true;
    try {
      const page = await api<{ events: AuditEvent[]; next: number | null }>('GET', `/audit?${queryOf(scope, filters, from, 200)}`);
      setEvents((list) => (reset ? page.events : [...list, ...page.events]));
      setNext(page.next);
    } catch (err) {
      setError(uiError(err));
    } finally {
      loading.current = false;
    }
  };
  useEffect(() => void loadMore(0, true), [filters, scope]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    void api<Verdict>('GET', '/audit/verify').then(setVerdict, (err) => setError(uiError(err)));
  }, []);

  // eslint-disable-next-line react-hooks/incompatible-library -- a notice, not a fault: the build has no React Compiler, and TanStack Virtual re-renders the list on scroll by design
  const virtualizer = useVirtualizer({ count: events.length, getScrollElement: () => parentRef.current, estimateSize: () => ROW, overscan: 10 });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (next !== null && events.length > 0 && lastIndex >= events.length - 40) void loadMore(next, false);
  }, [lastIndex]); // eslint-disable-line react-hooks/exhaustive-deps

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const exportAll = async () => {
    try {
      const lines: string[] = [];
      let after = 0;
      for (;;) {
        const page = await api<{ events: AuditEvent[]; next: number | null }>('GET', `/audit?${queryOf(scope, filters, after, 1000)}`);
        for (const ev of page.events) lines.push(JSON.stringify(ev));
        if (page.next === null) break;
        after = page.next;
      }
      download('audit.jsonl', `${lines.join('\n')}\n`);
    } catch (err) {
      setError(uiError(err));
    }
  };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));

  return (
    <section aria-labelledby="audit-title" className="log-page">
      <div className="view-header">
        <h1 id="audit-title">Audit</h1>
        <button type="button" onClick={() => void exportAll()}>
          Export JSON lines
        </button>
      </div>
      {verdict && (
        <p className={verdict.state === 'ok' ? 'notice ok-notice' : 'error'} role="status" data-chain={verdict.state}>
          {verdict.state === 'ok'
            ? `Hash chain verified: ${verdict.count} events, none changed or missing (checked ${when(verdict.checkedAt)}).`
            : `Hash chain BROKEN after ${verdict.count} good events${verdict.event ? ` at event ${verdict.event.seq} (${verdict.event.action}): ${verdict.reason}` : ''}.`}
        </p>
      )}
      <form className="filters" onSubmit={apply}>
        <label>
          Actor
          <input value={draft.actor} onChange={set('actor')} placeholder="email or user id" />
        </label>
        <label>
          Action
          <input value={draft.action} onChange={set('action')} placeholder="session.* or auth.login" />
        </label>
        <label>
          From
          <input type="datetime-local" value={draft.from} onChange={set('from')} />
        </label>
        <label>
          To
          <input type="datetime-local" value={draft.to} onChange={set('to')} />
        </label>
        <button type="submit">Apply</button>
      </form>
      <ErrorText error={error} />
      <div className="log-table audit" role="table" aria-label="Audit events" aria-rowcount={events.length + 1}>
        <div role="rowgroup">
          <div role="row" className="log-row log-head" aria-rowindex={1}>
            <span role="columnheader">Time</span>
            <span role="columnheader">Actor</span>
            <span role="columnheader">Action</span>
            <span role="columnheader">Target</span>
            <span role="columnheader">Source</span>
          </div>
        </div>
        <div ref={parentRef} className="log-scroll" role="rowgroup" tabIndex={0} aria-label="Events (scroll for more)">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((v) => {
              const e = events[v.index];
              return (
                <div
                  key={e.seq}
                  role="row"
                  aria-rowindex={v.index + 2}
                  className="log-row"
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` }}
                >
                  <span role="cell" className="time">
                    {when(e.at)}
                  </span>
                  <span role="cell">{e.actor.email ?? e.actor.kind}</span>
                  <span role="cell">
                    <code>{e.action}</code>
                  </span>
                  <span role="cell" className="sql" title={JSON.stringify(e.details ?? {})}>
                    {targetLabel(e)}
                  </span>
                  <span role="cell">{e.sourceAddress ?? ''}</span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
