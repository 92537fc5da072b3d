/** Gateways: connected / last seen (refreshed every 2 s), and Add gateway with its start command. */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, useSession, type UiError } from '../store/session.ts';
import { CopyField, Dialog, ErrorText, usePolling, when } from './ui.tsx';

export interface GatewayRow {
  id: string;
  name: string;
  projectId: string | null;
  enrolled: boolean;
  connected: boolean;
  lastSeenAt: string | null;
  createdAt: string;
}

export function gatewayStartCommand(origin: string, token: string): string {
  return `npx gatehouse-gateway start --domain ${origin} --token ${token}`;
}

export function GatewaysPage() {
  const projectId = useSession((s) => s.projectId);
  const [gateways, setGateways] = useState<GatewayRow[]>([]);
  const [error, setError] = useState<UiError>();
  const [adding, setAdding] = useState(false);
  usePolling(
    async () => {
      try {
        setGateways((await api<{ gateways: GatewayRow[] }>('GET', '/gateways')).gateways);
        setError(undefined);
      } catch (err) {
        setError(uiError(err));
      }
    },
    2000,
    [projectId],
  );
  const shown = gateways.filter((g) => g.projectId === null || g.projectId === projectId);

  return (
    <section aria-labelledby="gateways-title">
      <div className="view-header">
        <h1 id="gateways-title">Gateways</h1>
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          Add gateway
        </button>
      </div>
      <p className="muted">A gateway runs next to your databases and dials out to Gatehouse; database credentials never leave it.</p>
      <ErrorText error={error} />
      {shown.length === 0 ? (
        <p className="empty">No gateway yet. Add one, then run the command it shows on a machine that can reach your databases.</p>
      ) : (
        <table className="grid" aria-label="Gateways">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Last seen</th>
              <th scope="col">Scope</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((g) => (
              <tr key={g.id} data-gateway={g.name}>
                <td>{g.name}</td>
                <td>
                  {g.connected ? (
                    <span className="tag status-active">connected</span>
                  ) : g.enrolled ? (
                    <span className="tag status-revoked">offline</span>
                  ) : (
                    <span className="tag">waiting to enroll</span>
                  )}
                </td>
                <td>{when(g.lastSeenAt)}</td>
                <td>{g.projectId === null ? 'all projects' : 'this project'}</td>
                <td>{when(g.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adding && projectId && <AddGateway projectId={projectId} onClose={() => setAdding(false)} />}
    </section>
  );
}

function AddGateway({ projectId, onClose }: { projectId: string; onClose: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<UiError>();
  const [made, setMade] = useState<{ token: string; expiresAt: string; name: string }>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api<{ gateway: { name: string }; enrollmentToken: string; expiresAt: string }>('POST', '/gateways', { name: name.trim(), projectId });
      setMade({ token: r.enrollmentToken, expiresAt: r.expiresAt, name: r.gateway.name });
    } catch (err) {
      setError(uiError(err));
    }
  };
  return (
    <Dialog title={made ? `Start ${made.name}` : 'Add gateway'} onClose={onClose} wide>
      {made ? (
        <>
          <p>Run this on a machine that can reach your databases. The token works once and until {when(made.expiresAt)}; it is shown only now.</p>
          <CopyField id="gateway-command" label="Start command" value={gatewayStartCommand(window.location.origin, made.token)} />
          <p className="muted small">
            The gateway appears as <strong>connected</strong> in the list as soon as it enrolls.
          </p>
          <div className="actions">
            <button type="button" className="primary" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <label>
            Name
            <input name="name" required maxLength={100} autoFocus placeholder="eu-west-1" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <ErrorText error={error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary">
              Create
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
