/** My access: the accounts the signed-in user may use in this project, each with Access. */
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { uiError, useSession, type UiError } from '../store/session.ts';
import { StartWebSessionDialog, type WebTarget } from '../webaccess/StartWebSession.tsx';
import { useWebSessions, type WebView } from '../webaccess/store.ts';
import { AccessDialog, type AccessTarget } from './AccessCommand.tsx';
import { ErrorText } from './ui.tsx';

interface Accessible {
  id: string;
  name: string;
  description: string;
  username: string;
  requireMfa: boolean;
  requireApproval?: boolean;
  maxDurationSeconds?: number;
  resource: { id: string; name: string; database: string };
}

export function AccessPage() {
  const projectId = useSession((s) => s.projectId)!;
  const [accounts, setAccounts] = useState<Accessible[]>();
  const [error, setError] = useState<UiError>();
  const [target, setTarget] = useState<AccessTarget>();
  const [web, setWeb] = useState<{ target: WebTarget; view: WebView }>();
  const ended = useWebSessions((s) => s.ended);
  const openWeb = (a: Accessible, view: WebView) =>
    setWeb({ view, target: { projectId, resourceId: a.resource.id, resourceName: a.resource.name, accountId: a.id, accountName: a.name } });
  useEffect(() => {
    api<{ accounts: Accessible[] }>('GET', `/projects/${projectId}/accounts`).then(
      (r) => setAccounts(r.accounts),
      (err) => setError(uiError(err)),
    );
  }, [projectId]);
  return (
    <section aria-labelledby="access-title">
      <div className="view-header">
        <h1 id="access-title">My access</h1>
      </div>
      <p className="muted">
        Databases you may open a session on. Sign in once with <code>gatehouse login --domain {window.location.origin}</code>, then run the command Access
        shows.
      </p>
      {ended && (
        <div className="error web-ended" role="alert" data-reason={ended.reason}>
          {ended.message}{' '}
          <button type="button" className="link" onClick={() => useWebSessions.getState().dismiss()}>
            Dismiss
          </button>
        </div>
      )}
      <ErrorText error={error} />
      {accounts && accounts.length === 0 && <p className="empty">No account yet: an administrator gives you access with a policy.</p>}
      {accounts && accounts.length > 0 && (
        <table className="grid" aria-label="My accounts">
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">Account</th>
              <th scope="col">Database user</th>
              <th scope="col">Needs</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={a.id}>
                <td>
                  {a.resource.name} <span className="muted small">({a.resource.database})</span>
                </td>
                <td>
                  {a.name}
                  {a.description && <div className="muted small">{a.description}</div>}
                </td>
                <td>
                  <code>{a.username}</code>
                </td>
                <td>
                  {a.requireMfa && <span className="tag mfa">MFA</span>} {a.requireApproval && <span className="tag approval">approval</span>}
                </td>
                <td className="num row-actions">
                  <button type="button" onClick={() => openWeb(a, 'explorer')} aria-label={`Data Explorer on ${a.resource.name} as ${a.name}`}>
                    Data Explorer
                  </button>
                  <button type="button" onClick={() => openWeb(a, 'terminal')} aria-label={`SQL terminal on ${a.resource.name} as ${a.name}`}>
                    SQL terminal
                  </button>
                  <button
                    type="button"
                    onClick={() => setTarget({ projectId, resource: a.resource.name, account: a.name })}
                    aria-label={`Access ${a.resource.name} as ${a.name}`}
                  >
                    Access
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {web && <StartWebSessionDialog target={web.target} view={web.view} onClose={() => setWeb(undefined)} />}
      {target && <AccessDialog target={target} onClose={() => setTarget(undefined)} />}
    </section>
  );
}
