/** Users: invite (one-time link), roles in the project, groups; instance admins also disable and reset MFA. */
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, useSession, type Role, type UiError } from '../store/session.ts';
import { CopyField, Dialog, ErrorText } from './ui.tsx';

interface Member { userId: string; email: string; name: string; role: Role }
interface AdminUser { id: string; email: string; name: string; isAdmin: boolean; disabled: boolean; mfa: { totp: boolean } }
export interface Group { id: string; name: string; members: { userId: string; email: string }[] }

export function UsersPage() {
  const projectId = useSession((s) => s.projectId)!;
  const instanceAdmin = useSession((s) => s.me?.isAdmin ?? false);
  const meId = useSession((s) => s.me?.id);
  const [members, setMembers] = useState<Member[]>([]);
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [error, setError] = useState<UiError>();
  const [inviting, setInviting] = useState(false);
  const [groupName, setGroupName] = useState('');
  const load = async () => {
    try {
      setMembers((await api<{ members: Member[] }>('GET', `/projects/${projectId}/members`)).members);
      setGroups((await api<{ groups: Group[] }>('GET', `/projects/${projectId}/groups`)).groups);
      if (instanceAdmin) setUsers((await api<{ users: AdminUser[] }>('GET', '/users')).users);
    } catch (err) {
      setError(uiError(err));
    }
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/set-state-in-effect -- reload on projectId only; load() sets state only after its awaits
  useEffect(() => void load(), [projectId]);
  const act = (fn: () => Promise<unknown>) => () => void fn().then(load, (err) => setError(uiError(err)));
  const byId = new Map(users.map((u) => [u.id, u]));
  const createGroup = (e: FormEvent) => {
    e.preventDefault();
    act(() => api('POST', `/projects/${projectId}/groups`, { name: groupName.trim() }).then(() => setGroupName('')))();
  };

  return (
    <section aria-labelledby="users-title">
      <div className="view-header">
        <h1 id="users-title">Users</h1>
        <button type="button" className="primary" onClick={() => setInviting(true)}>Invite user</button>
      </div>
      <ErrorText error={error} />
      <table className="grid" aria-label="Project members">
        <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th>{instanceAdmin && <><th scope="col">MFA</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></>}</tr></thead>
        <tbody>
          {members.map((m) => {
            const u = byId.get(m.userId);
            const self = m.userId === meId;
            return (
              <tr key={m.userId} data-user={m.email}>
                <td>{m.name}</td>
                <td>{m.email}</td>
                <td>
                  <select aria-label={`Role of ${m.email}`} value={m.role} disabled={self} onChange={(e) => act(() => api('POST', `/projects/${projectId}/members`, { userId: m.userId, role: e.target.value }))()}>
                    <option value="admin">admin</option><option value="member">member</option><option value="auditor">auditor</option>
                  </select>
                </td>
                {instanceAdmin && (
                  <>
                    <td>{u?.mfa.totp ? 'authenticator' : '—'}</td>
                    <td>{u?.disabled ? <span className="tag status-revoked">disabled</span> : 'active'}</td>
                    <td className="num row-actions">
                      {!self && u && <button type="button" onClick={act(() => api('PATCH', `/users/${m.userId}`, { disabled: !u.disabled }))}>{u.disabled ? 'Enable' : 'Disable'}</button>}
                      {u?.mfa.totp && <button type="button" onClick={act(() => api('DELETE', `/users/${m.userId}/mfa`))} aria-label={`Reset MFA of ${m.email}`}>Reset MFA</button>}
                    </td>
                  </>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>

      <div className="view-header section"><h2>Groups</h2></div>
      <form className="inline-form" onSubmit={createGroup}>
        <label>New group<input name="group" required value={groupName} onChange={(e) => setGroupName(e.target.value)} placeholder="oncall" /></label>
        <button type="submit">Create group</button>
      </form>
      {groups.length === 0 && <p className="empty">No groups. Policies can name groups instead of single users.</p>}
      {groups.map((g) => (
        <div key={g.id} className="card group">
          <div className="group-header"><h3>{g.name}</h3><span className="muted small">{g.members.length} member{g.members.length === 1 ? '' : 's'}</span>
            <button type="button" className="link" onClick={act(() => api('DELETE', `/groups/${g.id}`))} aria-label={`Delete group ${g.name}`}>Delete</button></div>
          <ul className="rows">
            {g.members.map((m) => (
              <li key={m.userId} className="row"><span>{m.email}</span>
                <button type="button" onClick={act(() => api('DELETE', `/groups/${g.id}/members/${m.userId}`))} aria-label={`Remove ${m.email} from ${g.name}`}>Remove</button></li>
            ))}
            <li className="row">
              <select aria-label={`Add a member to ${g.name}`} value="" onChange={(e) => e.target.value && act(() => api('POST', `/groups/${g.id}/members`, { userId: e.target.value }))()}>
                <option value="">Add member…</option>
                {members.filter((m) => !g.members.some((x) => x.userId === m.userId)).map((m) => <option key={m.userId} value={m.userId}>{m.email}</option>)}
              </select>
            </li>
          </ul>
        </div>
      ))}
      {inviting && <InviteDialog projectId={projectId} onClose={() => { setInviting(false); void load(); }} />}
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
          <div className="actions"><button type="button" className="primary" onClick={onClose}>Done</button></div>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <label>Email<input name="email" type="email" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} /></label>
          <label>Role in this project
            <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="member">member: uses the accounts policies give them</option>
              <option value="auditor">auditor: reads sessions, logs and the audit trail</option>
              <option value="admin">admin: manages this project</option>
            </select>
          </label>
          <ErrorText error={error} />
          <div className="actions"><button type="button" onClick={onClose}>Cancel</button><button type="submit" className="primary">Create invitation</button></div>
        </form>
      )}
    </Dialog>
  );
}
