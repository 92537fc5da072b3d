/**
 * Sessions: the live list with filters (user, resource, account, status), paged from the
 * server as it scrolls and rendered as virtualized rows; counters for the rows in view; Revoke.
 * Each row opens its session log.
 */
import { useCallback, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, useRole, useSession, type UiError } from '../store/session.ts';
import { usePagedRows, type Page } from './paged-rows.ts';
import { ErrorText, Link, StatusTag, usePolling, when } from './ui.tsx';
import { VirtualTable, type Column } from './VirtualTable.tsx';

export interface SessionRow {
  id: string;
  projectId: string;
  userId: string;
  userEmail: string;
  resource: { id: string; name: string; database: string };
  account: { id: string; name: string; username: string };
  status: string;
  createdAt: string;
  expiresAt: string;
  endedAt?: string;
}
interface Stats {
  connections: number;
  statements: number;
  errors: number;
  client: string | null;
}
type Filters = { status: string; user: string; resource: string; account: string };

const PAGE = 100;
const COLUMNS: Column[] = [
  { label: 'User' },
  { label: 'Resource / account' },
  { label: 'Client' },
  { label: 'Status' },
  { label: 'Started', className: 'time' },
  { label: 'Expires', className: 'time' },
  { label: 'Conn.', className: 'num' },
  { label: 'Statements', className: 'num' },
  { label: <span className="sr-only">Actions</span>, className: 'row-actions' },
];
const sessionKey = (s: SessionRow) => s.id;
/** "Dec 2, 11:46" in the row; the full time in its tooltip. */
const short = (iso: string) => new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });

export function SessionsPage() {
  const projectId = useSession((s) => s.projectId)!;
  const meId = useSession((s) => s.me?.id);
  const role = useRole();
  const [draft, setDraft] = useState<Filters>({ status: 'active', user: '', resource: '', account: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [stats, setStats] = useState<Record<string, Stats>>({});
  const [range, setRange] = useState<[number, number]>([0, -1]);
  const [actionError, setActionError] = useState<UiError>();

  const fetchPage = useCallback(
    async (cursor: string | undefined): Promise<Page<SessionRow>> => {
      const q = new URLSearchParams({ projectId, limit: String(PAGE) });
      for (const [k, v] of Object.entries<string>(filters)) if (v.trim()) q.set(k, v.trim());
      if (cursor) q.set('cursor', cursor);
      const page = await api<{ sessions: SessionRow[]; nextCursor: string | null }>('GET', `/sessions?${q}`);
      return { rows: page.sessions, nextCursor: page.nextCursor };
    },
    [projectId, filters],
  );
  const list = usePagedRows(fetchPage, sessionKey);
  const { rows, refresh } = list;

  // Live: the head of the list and the counters of the rows in view, every 2 s.
  const [first, last] = range;
  const inView = rows
    .slice(first, Math.min(last + 1, first + 100))
    .map((s) => s.id)
    .join(',');
  usePolling(
    async () => {
      await refresh();
      if (inView) setStats((await api<{ stats: Record<string, Stats> }>('GET', `/sessions/stats?ids=${inView}`)).stats);
    },
    2000,
    [refresh, inView],
  );
  const onRange = useCallback((a: number, b: number) => setRange((r) => (r[0] === a && r[1] === b ? r : [a, b])), []);

  const revoke = (s: SessionRow) => {
    if (!window.confirm(`Revoke ${s.userEmail}’s session on ${s.resource.name}? Their connections close at once.`)) return;
    void api('POST', `/sessions/${s.id}/revoke`).then(refresh, (err) => setActionError(uiError(err)));
  };
  const end = (s: SessionRow) => void api('POST', `/sessions/${s.id}/end`).then(refresh, (err) => setActionError(uiError(err)));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  /** A choice from a list applies at once (with what is typed); typed text on Enter or Apply. */
  const choose = (next: Filters) => {
    setDraft(next);
    setFilters(next);
  };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const described = filters.status || '';

  return (
    <section aria-labelledby="sessions-title" className="log-page">
      <div className="view-header">
        <h1 id="sessions-title">Sessions</h1>
      </div>
      <form className="filters" role="search" aria-label="Filter sessions" onSubmit={apply}>
        <label>
          Status
          <select value={draft.status} onChange={(e) => choose({ ...draft, status: e.target.value })}>
            <option value="active">active</option>
            <option value="">all</option>
            <option value="ended">ended</option>
            <option value="revoked">revoked</option>
            <option value="expired">expired</option>
          </select>
        </label>
        {role !== 'member' && (
          <label>
            User
            <input type="search" value={draft.user} onChange={set('user')} placeholder="email" />
          </label>
        )}
        <label>
          Resource
          <input type="search" value={draft.resource} onChange={set('resource')} placeholder="name" />
        </label>
        <label>
          Account
          <input type="search" value={draft.account} onChange={set('account')} placeholder="name" />
        </label>
        <button type="submit">Apply</button>
        <span className="muted small" role="status">
          {rows.length} session{rows.length === 1 ? '' : 's'}
          {list.more ? ' loaded (more as you scroll)' : ''}
          {role === 'member' ? ' (yours)' : ''}
        </span>
      </form>
      <ErrorText error={actionError ?? list.error} />
      {list.loaded && rows.length === 0 ? (
        <p className="empty">No {described} sessions.</p>
      ) : (
        <VirtualTable
          label="Sessions"
          className="sessions"
          columns={COLUMNS}
          rows={rows}
          keyOf={sessionKey}
          more={list.more}
          onMore={list.loadMore}
          resetKey={filters}
          onRange={onRange}
          rowAttributes={(s) => ({ 'data-session': s.id })}
          cells={(s) => {
            const st = stats[s.id];
            return [
              s.userEmail,
              <Link key="l" to={`/sessions/${s.id}`}>
                {s.resource.name} / {s.account.name}
              </Link>,
              st?.client ?? '—',
              <StatusTag key="s" status={s.status} />,
              <time key="c" dateTime={s.createdAt} title={when(s.createdAt)}>
                {short(s.createdAt)}
              </time>,
              s.endedAt ? (
                <time key="e" dateTime={s.endedAt} title={`ended ${when(s.endedAt)}`}>
                  ended {short(s.endedAt)}
                </time>
              ) : (
                <time key="e" dateTime={s.expiresAt} title={when(s.expiresAt)}>
                  {short(s.expiresAt)}
                </time>
              ),
              st?.connections ?? 0,
              st?.statements ?? 0,
              <>
                {s.status === 'active' && role === 'admin' && (
                  <button type="button" className="danger" onClick={() => revoke(s)} aria-label={`Revoke session of ${s.userEmail} on ${s.resource.name}`}>
                    Revoke
                  </button>
                )}
                {s.status === 'active' && role !== 'admin' && s.userId === meId && (
                  <button type="button" onClick={() => end(s)}>
                    End
                  </button>
                )}
              </>,
            ];
          }}
        />
      )}
    </section>
  );
}
