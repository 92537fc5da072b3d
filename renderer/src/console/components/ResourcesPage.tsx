/** Resources (databases behind a gateway) and the accounts on each; admins edit, auditors read. */
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { useRoute } from '../store/route.ts';
import { uiError, useRole, useSession, type UiError } from '../store/session.ts';
import { AccessDialog, type AccessTarget } from './AccessCommand.tsx';
import { AccountCredentialsDialog, RotationAccountDialog } from './AccountCredentials.tsx';
import type { GatewayRow } from './GatewaysPage.tsx';
import { Dialog, ErrorText, Link } from './ui.tsx';

interface Ssl {
  enabled: boolean;
  rejectUnauthorized: boolean;
  ca?: string;
}
interface Resource {
  id: string;
  projectId: string;
  gatewayId: string;
  name: string;
  host: string;
  port: number;
  database: string;
  ssl: Ssl;
}
interface Account {
  id: string;
  resourceId: string;
  name: string;
  description: string;
  username: string;
  requireMfa: boolean;
  requireApproval: { requiredApprovals: number } | null;
}

export function ResourcesPage() {
  const projectId = useSession((s) => s.projectId)!;
  const isAdmin = useRole() === 'admin';
  const [resources, setResources] = useState<Resource[]>();
  const [error, setError] = useState<UiError>();
  const [editing, setEditing] = useState<Resource | 'new'>();
  const load = () =>
    api<{ resources: Resource[] }>('GET', `/projects/${projectId}/resources`).then(
      (r) => setResources(r.resources),
      (err) => setError(uiError(err)),
    );
  useEffect(() => void load(), [projectId]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <section aria-labelledby="resources-title">
      <div className="view-header">
        <h1 id="resources-title">Resources</h1>
        {isAdmin && (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            Add resource
          </button>
        )}
      </div>
      <ErrorText error={error} />
      {resources && resources.length === 0 && <p className="empty">No resource yet. {isAdmin ? 'Add the PostgreSQL database your gateway can reach.' : ''}</p>}
      {resources && resources.length > 0 && (
        <table className="grid" aria-label="Resources">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Host</th>
              <th scope="col">Database</th>
              <th scope="col">TLS</th>
            </tr>
          </thead>
          <tbody>
            {resources.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/resources/${r.id}`}>{r.name}</Link>
                </td>
                <td>
                  <code>
                    {r.host}:{r.port}
                  </code>
                </td>
                <td>{r.database}</td>
                <td>{r.ssl.enabled ? (r.ssl.rejectUnauthorized ? 'verified' : 'unverified') : 'off'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && (
        <ResourceForm
          projectId={projectId}
          resource={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            void load();
          }}
        />
      )}
    </section>
  );
}

export function ResourcePage({ id }: { id: string }) {
  const projectId = useSession((s) => s.projectId)!;
  const isAdmin = useRole() === 'admin';
  const [resource, setResource] = useState<Resource>();
  const [accounts, setAccounts] = useState<Account[]>();
  const [error, setError] = useState<UiError>();
  const [editing, setEditing] = useState(false);
  const [account, setAccount] = useState<Account | 'new'>();
  const [access, setAccess] = useState<AccessTarget>();
  const [credentials, setCredentials] = useState<{ account: Account; checkAtOnce: boolean }>();
  const [rotationAccount, setRotationAccount] = useState(false);
  const load = async () => {
    try {
      setResource((await api<{ resource: Resource }>('GET', `/resources/${id}`)).resource);
      if (isAdmin) setAccounts((await api<{ accounts: Account[] }>('GET', `/resources/${id}/accounts`)).accounts);
    } catch (err) {
      setError(uiError(err));
    }
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/set-state-in-effect -- reload on id only; load() sets state only after its awaits
  useEffect(() => void load(), [id]);
  const remove = async () => {
    if (!resource || !window.confirm(`Delete ${resource.name} and its accounts?`)) return;
    try {
      await api('DELETE', `/resources/${id}`);
      useRoute.getState().navigate('/resources');
    } catch (err) {
      setError(uiError(err));
    }
  };
  const removeAccount = async (a: Account) => {
    if (!window.confirm(`Delete the account ${a.name}?`)) return;
    await api('DELETE', `/accounts/${a.id}`).then(load, (err) => setError(uiError(err)));
  };
  return (
    <section aria-labelledby="resource-title">
      <p className="small">
        <Link to="/resources">← Resources</Link>
      </p>
      <div className="view-header">
        <h1 id="resource-title">{resource?.name ?? 'Resource'}</h1>
        {isAdmin && resource && (
          <div className="actions">
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" onClick={() => setRotationAccount(true)}>
              Rotation account
            </button>
            <button type="button" className="danger" onClick={() => void remove()}>
              Delete
            </button>
          </div>
        )}
      </div>
      <ErrorText error={error} />
      {resource && (
        <dl className="details">
          <div>
            <dt>Host</dt>
            <dd>
              <code>
                {resource.host}:{resource.port}
              </code>
            </dd>
          </div>
          <div>
            <dt>Database</dt>
            <dd>{resource.database}</dd>
          </div>
          <div>
            <dt>TLS</dt>
            <dd>{resource.ssl.enabled ? (resource.ssl.rejectUnauthorized ? 'on, verified' : 'on, not verified') : 'off'}</dd>
          </div>
          <div>
            <dt>CA certificate</dt>
            <dd>{resource.ssl.ca ? 'custom' : 'system'}</dd>
          </div>
        </dl>
      )}
      <div className="view-header">
        <h2>Accounts</h2>
        {isAdmin && (
          <button type="button" className="primary" onClick={() => setAccount('new')}>
            Add account
          </button>
        )}
      </div>
      {!isAdmin && <p className="muted">Accounts are managed by the project’s administrators.</p>}
      {accounts && accounts.length === 0 && (
        <p className="empty">No account yet. Add the database user people will connect as; its password stays in Gatehouse.</p>
      )}
      {accounts && accounts.length > 0 && resource && (
        <table className="grid" aria-label={`Accounts on ${resource.name}`}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Database user</th>
              <th scope="col">Needs</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={a.id} data-account={a.name}>
                <td>
                  {a.name}
                  {a.description && <div className="muted small">{a.description}</div>}
                </td>
                <td>
                  <code>{a.username}</code>
                </td>
                <td>
                  {a.requireMfa && <span className="tag mfa">MFA</span>}{' '}
                  {a.requireApproval && (
                    <span className="tag approval">
                      {a.requireApproval.requiredApprovals} approval{a.requireApproval.requiredApprovals === 1 ? '' : 's'}
                    </span>
                  )}
                </td>
                <td className="num row-actions">
                  <button type="button" onClick={() => setAccess({ projectId, resource: resource.name, account: a.name })} aria-label={`Access ${a.name}`}>
                    Access
                  </button>
                  <button type="button" onClick={() => setCredentials({ account: a, checkAtOnce: true })} aria-label={`Check connection of ${a.name}`}>
                    Check connection
                  </button>
                  <button type="button" onClick={() => setCredentials({ account: a, checkAtOnce: false })} aria-label={`Credentials of ${a.name}`}>
                    Credentials
                  </button>
                  <button type="button" onClick={() => setAccount(a)} aria-label={`Edit ${a.name}`}>
                    Edit
                  </button>
                  <button type="button" onClick={() => void removeAccount(a)} aria-label={`Delete ${a.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && resource && (
        <ResourceForm
          projectId={projectId}
          resource={resource}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            void load();
          }}
        />
      )}
      {account && (
        <AccountForm
          resourceId={id}
          account={account === 'new' ? undefined : account}
          onClose={() => setAccount(undefined)}
          onSaved={() => {
            setAccount(undefined);
            void load();
          }}
        />
      )}
      {access && <AccessDialog target={access} onClose={() => setAccess(undefined)} />}
      {credentials && (
        <AccountCredentialsDialog
          projectId={projectId}
          resourceId={id}
          account={credentials.account}
          checkAtOnce={credentials.checkAtOnce}
          onClose={() => setCredentials(undefined)}
        />
      )}
      {rotationAccount && <RotationAccountDialog resourceId={id} onClose={() => setRotationAccount(false)} />}
    </section>
  );
}

function ResourceForm({ projectId, resource, onClose, onSaved }: { projectId: string; resource?: Resource; onClose: () => void; onSaved: () => void }) {
  const [gateways, setGateways] = useState<GatewayRow[]>([]);
  const [f, setF] = useState({
    name: resource?.name ?? '',
    gatewayId: resource?.gatewayId ?? '',
    host: resource?.host ?? '',
    port: String(resource?.port ?? 5432),
    database: resource?.database ?? '',
    sslEnabled: resource?.ssl.enabled ?? true,
    rejectUnauthorized: resource?.ssl.rejectUnauthorized ?? true,
    ca: resource?.ssl.ca ?? '',
  });
  const [error, setError] = useState<UiError>();
  useEffect(() => {
    void api<{ gateways: GatewayRow[] }>('GET', '/gateways').then((r) => {
      const usable = r.gateways.filter((g) => g.projectId === null || g.projectId === projectId);
      setGateways(usable);
      setF((x) => (x.gatewayId || usable.length === 0 ? x : { ...x, gatewayId: usable[0].id }));
    });
  }, [projectId]);
  const set = (k: keyof typeof f) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setF((x) => ({ ...x, [k]: e.target.type === 'checkbox' ? Boolean(e.target.checked) : e.target.value }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = {
      name: f.name.trim(),
      gatewayId: f.gatewayId,
      host: f.host.trim(),
      port: Number(f.port),
      database: f.database.trim(),
      ssl: { enabled: f.sslEnabled, rejectUnauthorized: f.rejectUnauthorized, ...(f.ca.trim() ? { ca: f.ca.trim() } : {}) },
    };
    try {
      if (resource) await api('PATCH', `/resources/${resource.id}`, body);
      else await api('POST', `/projects/${projectId}/resources`, body);
      onSaved();
    } catch (err) {
      setError(uiError(err));
    }
  };
  return (
    <Dialog title={resource ? `Edit ${resource.name}` : 'Add resource'} onClose={onClose} wide>
      <form onSubmit={(e) => void submit(e)}>
        <div className="form-grid">
          <label>
            Name
            <input name="name" required value={f.name} onChange={set('name')} autoFocus />
          </label>
          <label>
            Gateway
            <select name="gateway" required value={f.gatewayId} onChange={set('gatewayId')}>
              {gateways.length === 0 && <option value="">No gateway: add one first</option>}
              {gateways.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                  {g.connected ? '' : ' (offline)'}
                </option>
              ))}
            </select>
          </label>
          <label>
            Host
            <input name="host" required value={f.host} onChange={set('host')} placeholder="db.internal" />
          </label>
          <label>
            Port
            <input name="port" type="number" min={1} max={65535} required value={f.port} onChange={set('port')} />
          </label>
          <label>
            Database
            <input name="database" required value={f.database} onChange={set('database')} />
          </label>
        </div>
        <fieldset className="plain">
          <legend>TLS to the database</legend>
          <label className="check">
            <input type="checkbox" checked={f.sslEnabled} onChange={set('sslEnabled')} />
            Use TLS
          </label>
          <label className="check">
            <input type="checkbox" checked={f.rejectUnauthorized} disabled={!f.sslEnabled} onChange={set('rejectUnauthorized')} />
            Verify the server certificate
          </label>
          <label>
            CA certificate (PEM, optional)
            <textarea name="ca" rows={3} value={f.ca} disabled={!f.sslEnabled} onChange={set('ca')} />
          </label>
        </fieldset>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            {resource ? 'Save' : 'Add resource'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function AccountForm({ resourceId, account, onClose, onSaved }: { resourceId: string; account?: Account; onClose: () => void; onSaved: () => void }) {
  const [f, setF] = useState({
    name: account?.name ?? '',
    description: account?.description ?? '',
    username: account?.username ?? '',
    password: '',
    requireMfa: account?.requireMfa ?? false,
    approvals: String(account?.requireApproval?.requiredApprovals ?? 0),
  });
  const [error, setError] = useState<UiError>();
  const set = (k: keyof typeof f) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setF((x) => ({ ...x, [k]: e.target.type === 'checkbox' ? Boolean(e.target.checked) : e.target.value }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const base = {
      name: f.name.trim(),
      description: f.description.trim(),
      username: f.username.trim(),
      requireMfa: f.requireMfa,
      ...(f.password ? { password: f.password } : {}),
    };
    const approvals = Number(f.approvals);
    const requireApproval = approvals > 0 ? { requiredApprovals: approvals } : null;
    try {
      const saved = account
        ? (await api<{ account: Account }>('PATCH', `/accounts/${account.id}`, base)).account
        : (await api<{ account: Account }>('POST', `/resources/${resourceId}/accounts`, base)).account;
      if (requireApproval || account?.requireApproval) await api('PATCH', `/accounts/${saved.id}`, { requireApproval });
      onSaved();
    } catch (err) {
      setError(uiError(err));
    }
  };
  return (
    <Dialog title={account ? `Edit ${account.name}` : 'Add account'} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Name
          <input name="name" required value={f.name} onChange={set('name')} autoFocus placeholder="readonly" />
        </label>
        <label>
          Description
          <input name="description" value={f.description} onChange={set('description')} />
        </label>
        <label>
          Database user
          <input name="username" required value={f.username} onChange={set('username')} autoComplete="off" />
        </label>
        <label>
          {account ? 'New password (leave empty to keep)' : 'Password'}
          <input name="password" type="password" autoComplete="new-password" required={!account} value={f.password} onChange={set('password')} />
        </label>
        <p className="muted small">The password is stored sealed and never shown again, to anyone.</p>
        <label className="check">
          <input type="checkbox" checked={f.requireMfa} onChange={set('requireMfa')} />
          Require MFA for access
        </label>
        <label>
          Approvals needed before a session (0: none)
          <input name="approvals" type="number" min={0} max={10} value={f.approvals} onChange={set('approvals')} />
        </label>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            {account ? 'Save' : 'Add account'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
