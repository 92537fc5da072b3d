/** Sessions: the live list (every 2 s) with filters, counters and Revoke; each opens its log. */
import { useState } from 'react';
import { api } from '../api.ts';
import { uiError, useRole, useSession, type UiError } from '../store/session.ts';
import { ErrorText, Link, StatusTag, usePolling, when } from './ui.tsx';

export interface SessionRow {
  id: string; projectId: string; userId: string; userEmail: string;
  resource: { id: string; name: string; database: string }; account: { id: string; name: string; username: string };
  status: string; createdAt: string; expiresAt: string; endedAt?: string;
}
interface Stats { connections: number; statements: number; errors: number; client: string | null }

export function SessionsPage() {
  const projectId = useSession((s) => s.projectId)!;
  const meId = useSession((s) => s.me?.id);
  const role = useRole();
  const [status, setStatus] = useState('active');
  const [text, setText] = useState('');
  const [sessions, setSessions] = useState<SessionRow[]>([]);
  const [stats, setStats] = useState<Record<string, Stats>>({});
  const [error, setError] = useState<UiError>();
  const load = async () => {
    try {
      const q = new URLSearchParams({ projectId, limit: '200', ...(status ? { status } : {}) });
      const list = (await api<{ sessions: SessionRow[] }>('GET', `/sessions?${q}`)).sessions;
      setSessions(list);
      if (list.length > 0) setStats((await api<{ stats: Record<string, Stats> }>('GET', `/sessions/stats?ids=${list.slice(0, 100).map((s) => s.id).join(',')}`)).stats);
      setError(undefined);
    } catch (err) {
      setError(uiError(err));
    }
  };
  usePolling(load, 2000, [projectId, status]);
  const needle = text.trim().toLowerCase();
  const shown = needle ? sessions.filter((s) => [s.userEmail, s.resource.name, s.account.name].some((v) => v.toLowerCase().includes(needle))) : sessions;
  const revoke = (s: SessionRow) => {
    if (!window.confirm(`Revoke ${s.userEmail}’s session on ${s.resource.name}? Their connections close at once.`)) return;
    void api('POST', `/sessions/${s.id}/revoke`).then(load, (err) => setError(uiError(err)));
  };
  const end = (s: SessionRow) => void api('POST', `/sessions/${s.id}/end`).then(load, (err) => setError(uiError(err)));

  return (
    <section aria-labelledby="sessions-title">
      <div className="view-header"><h1 id="sessions-title">Sessions</h1></div>
      <div className="filters">
        <label>Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="active">active</option><option value="">all</option><option value="ended">ended</option><option value="revoked">revoked</option><option value="expired">expired</option>
          </select>
        </label>
        <label>Filter<input type="search" placeholder="user, resource or account" value={text} onChange={(e) => setText(e.target.value)} /></label>
        <span className="muted small" role="status">{shown.length} session{shown.length === 1 ? '' : 's'}{role === 'member' ? ' (yours)' : ''}</span>
      </div>
      <ErrorText error={error} />
      {shown.length === 0 ? <p className="empty">No {status || ''} sessions.</p> : (
        <table className="grid" aria-label="Sessions">
          <thead><tr><th scope="col">User</th><th scope="col">Resource / account</th><th scope="col">Client</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Expires</th><th scope="col" className="num">Connections</th><th scope="col" className="num">Statements</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {shown.map((s) => {
              const st = stats[s.id];
              return (
                <tr key={s.id} data-session={s.id}>
                  <td>{s.userEmail}</td>
                  <td><Link to={`/sessions/${s.id}`}>{s.resource.name} / {s.account.name}</Link></td>
                  <td>{st?.client ?? '—'}</td>
                  <td><StatusTag status={s.status} /></td>
                  <td>{when(s.createdAt)}</td>
                  <td>{s.endedAt ? `ended ${when(s.endedAt)}` : when(s.expiresAt)}</td>
                  <td className="num">{st?.connections ?? 0}</td>
                  <td className="num">{st?.statements ?? 0}</td>
                  <td className="num row-actions">
                    {s.status === 'active' && role === 'admin' && <button type="button" className="danger" onClick={() => revoke(s)} aria-label={`Revoke session of ${s.userEmail} on ${s.resource.name}`}>Revoke</button>}
                    {s.status === 'active' && role !== 'admin' && s.userId === meId && <button type="button" onClick={() => end(s)}>End</button>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
