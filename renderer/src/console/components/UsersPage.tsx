/**
 * Users: the project's members paged from the server (search, role, status filters) as
 * virtualized rows; invite (one-time link), roles, groups; instance admins also disable and
 * reset MFA.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, useSession, type Role, type UiError } from '../store/session.ts';
import { usePagedRows, type Page } from './paged-rows.ts';
import { CopyField, Dialog, ErrorText } from './ui.tsx';
import { VirtualTable, type Column } from './VirtualTable.tsx';

interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  mfa: { totp: boolean };
}
export interface Group {
  id: string;
  name: string;
  members: { userId: string; email: string }[];
}
type Filters = { q: string; role: string; disabled: string };

const PAGE = 100;
const COLUMNS: Column[] = [
  { label: 'Name' },
  { label: 'Email' },
  { label: 'Role' },
  { label: 'MFA' },
  { label: 'Status' },
  { label: <span className="sr-only">Actions</span>, className: 'row-actions' },
];
const memberKey = (m: Member) => m.userId;

export function UsersPage() {
  const projectId = useSession((s) => s.projectId)!;
  const instanceAdmin = useSession((s) => s.me?.isAdmin ?? false);
  const meId = useSession((s) => s.me?.id);
  const [draft, setDraft] = useState<Filters>({ q: '', role: '', disabled: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [everyone, setEveryone] = useState<Member[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [error, setError] = useState<UiError>();
  const [inviting, setInviting] = useState(false);
  const [groupName, setGroupName] = useState('');

  const fetchPage = useCallback(
    async (cursor: string | undefined): Promise<Page<Member>> => {
      const q = new URLSearchParams({ limit: String(PAGE) });
      for (const [k, v] of Object.entries<string>(filters)) if (v.trim()) q.set(k, v.trim());
      if (cursor) q.set('cursor', cursor);
      const page = await api<{ members: Member[]; nextCursor: string | null }>('GET', `/projects/${projectId}/members?${q}`);
      return { rows: page.members, nextCursor: page.nextCursor };
    },
    [projectId, filters],
  );
  const list = usePagedRows(fetchPage, memberKey);
  const loadGroups = async () => {
    try {
      setGroups((await api<{ groups: Group[] }>('GET', `/projects/${projectId}/groups`)).groups);
      // Group pickers offer up to 1000 members (the list above pages through any number).
      setEveryone((await api<{ members: Member[] }>('GET', `/projects/${projectId}/members?limit=1000`)).members);
    } catch (err) {
      setError(uiError(err));
    }
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/set-state-in-effect -- reload on projectId only; loadGroups() sets state only after its awaits
  useEffect(() => void loadGroups(), [projectId]);
  const load = async () => {
    await Promise.all([list.refresh(), loadGroups()]);
  };
  const act = (fn: () => Promise<unknown>) => () => void fn().then(load, (err) => setError(uiError(err)));
  const createGroup = (e: FormEvent) => {
    e.preventDefault();
    act(() => api('POST', `/projects/${projectId}/groups`, { name: groupName.trim() }).then(() => setGroupName('')))();
  };
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

  return (
    <section aria-labelledby="users-title">
      <div className="view-header">
        <h1 id="users-title">Users</h1>
        <button type="button" className="primary" onClick={() => setInviting(true)}>
          Invite user
        </button>
      </div>
      <form className="filters" role="search" aria-label="Filter members" onSubmit={apply}>
        <label>
          Search
          <input type="search" value={draft.q} onChange={set('q')} placeholder="name or email" />
        </label>
        <label>
          Role
          <select value={draft.role} onChange={(e) => choose({ ...draft, role: e.target.value })}>
            <option value="">any</option>
            <option value="admin">admin</option>
            <option value="member">member</option>
            <option value="auditor">auditor</option>
          </select>
        </label>
        <label>
          Status
          <select value={draft.disabled} onChange={(e) => choose({ ...draft, disabled: e.target.value })}>
            <option value="">any</option>
            <option value="false">active</option>
            <option value="true">disabled</option>
          </select>
        </label>
        <button type="submit">Apply</button>
        <span className="muted small" role="status">
          {list.rows.length} member{list.rows.length === 1 ? '' : 's'}
          {list.more ? ' loaded (more as you scroll)' : ''}
        </span>
      </form>
      <ErrorText error={error ?? list.error} />
      {list.loaded && list.rows.length === 0 ? (
        <p className="empty">No members match.</p>
      ) : (
        <VirtualTable
          label="Project members"
          className="users"
          columns={COLUMNS}
          rows={list.rows}
          keyOf={memberKey}
          more={list.more}
          onMore={list.loadMore}
          resetKey={filters}
          rowAttributes={(m) => ({ 'data-user': m.email })}
          cells={(m) => {
            const self = m.userId === meId;
            return [
              m.name,
              m.email,
              <select
                key="r"
                aria-label={`Role of ${m.email}`}
                value={m.role}
                disabled={self}
                onChange={(e) => act(() => api('POST', `/projects/${projectId}/members`, { userId: m.userId, role: e.target.value }))()}
              >
                <option value="admin">admin</option>
                <option value="member">member</option>
                <option value="auditor">auditor</option>
              </select>,
              m.mfa.totp ? 'authenticator' : '—',
              m.disabled ? (
                <span key="d" className="tag status-revoked">
                  disabled
                </span>
              ) : (
                'active'
              ),
              instanceAdmin && (
                <>
                  {!self && (
                    <button
                      type="button"
                      onClick={act(() => api('PATCH', `/users/${m.userId}`, { disabled: !m.disabled }))}
                      aria-label={`${m.disabled ? 'Enable' : 'Disable'} ${m.email}`}
                    >
                      {m.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                  {m.mfa.totp && (
                    <button type="button" onClick={act(() => api('DELETE', `/users/${m.userId}/mfa`))} aria-label={`Reset MFA of ${m.email}`}>
                      Reset MFA
                    </button>
                  )}
                </>
              ),
            ];
          }}
        />
      )}

      <div className="view-header section">
        <h2>Groups</h2>
      </div>
      <form className="inline-form" onSubmit={createGroup}>
        <label>
          New group
          <input name="group" required value={groupName} onChange={(e) => setGroupName(e.target.value)} placeholder="oncall" />
        </label>
        <button type="submit">Create group</button>
      </form>
      {groups.length === 0 && <p className="empty">No groups. Policies can name groups instead of single users.</p>}
      {groups.map((g) => (
        <div key={g.id} className="card group">
          <div className="group-header">
            <h3>{g.name}</h3>
            <span className="muted small">
              {g.members.length} member{g.members.length === 1 ? '' : 's'}
            </span>
            <button type="button" className="link" onClick={act(() => api('DELETE', `/groups/${g.id}`))} aria-label={`Delete group ${g.name}`}>
              Delete
            </button>
          </div>
          <ul className="rows">
            {g.members.map((m) => (
              <li key={m.userId} className="row">
                <span>{m.email}</span>
                <button type="button" onClick={act(() => api('DELETE', `/groups/${g.id}/members/${m.userId}`))} aria-label={`Remove ${m.email} from ${g.name}`}>
                  Remove
                </button>
              </li>
            ))}
            <li className="row">
              <select
                aria-label={`Add a member to ${g.name}`}
                value=""
                onChange={(e) => e.target.value && act(() => api('POST', `/groups/${g.id}/members`, { userId: e.target.value }))()}
              >
                <option value="">Add member…</option>
                {everyone
                  .filter((m) => !g.members.some((x) => x.userId === m.userId))
                  .map((m) => (
                    <option key={m.userId} value={m.userId}>
                      {m.email}
                    </option>
                  ))}
              </select>
            </li>
          </ul>
        </div>
      ))}
      {inviting && (
        <InviteDialog
          projectId={projectId}
          onClose={() => {
            setInviting(false);
            void load();
          }}
        />
      )}
    </section>
  );
}

function InviteDialog({ projectId, onClose }: { projectId: string; onClose: () => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState<UiError>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      setUrl((await api<{ url: string }>('POST', '/users/invitations', { email: email.trim(), projectId, role })).url);
    } catch (err) {
      setError(uiError(err));
    }
  };
  return (
    <Dialog title="Invite user" onClose={onClose} wide>
      {url ? (
        <>
          <p>Send this link to {email}. It works once, for 72 hours, and is shown only now.</p>
          <CopyField id="invitation-link" label="Invitation link" value={url} />
          <div className="actions">
            <button type="button" className="primary" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <label>
            Email
            <input name="email" type="email" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Role in this project
            <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="member">member: uses the accounts policies give them</option>
              <option value="auditor">auditor: reads sessions, logs and the audit trail</option>
              <option value="admin">admin: manages this project</option>
            </select>
          </label>
          <ErrorText error={error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary">
              Create invitation
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
