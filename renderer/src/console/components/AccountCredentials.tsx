/**
 * An account's credentials (issue 13, issue 11 "Check connection"): Check connection through
 * the gateway, rotation on/off with its interval, Rotate now, and the status (last rotated,
 * next due, last result with the database's own error, health). Also the resource's rotation
 * account. Passwords are write-only here as everywhere.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, type UiError } from '../store/session.ts';
import { Dialog, ErrorText } from './ui.tsx';

interface Failure {
  code: string;
  message: string;
}
export interface CredentialsStatus {
  rotation: {
    enabled: boolean;
    intervalDays: number;
    lastRotatedAt: string | null;
    nextRotationAt: string | null;
    lastResult: 'ok' | 'failed' | null;
    lastError: Failure | null;
    failures: number;
    pending: boolean;
  };
  health: { status: 'unknown' | 'ok' | 'broken' | 'unreachable'; checkedAt: string | null; error: Failure | null };
}
type Check = { ok: true; latencyMs: number; serverVersion?: string } | { ok: false; latencyMs: number; code: string; message: string; sqlstate?: string };

const INTERVALS = [1, 3, 7, 30] as const;
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

export function AccountCredentialsDialog({
  projectId,
  resourceId,
  account,
  checkAtOnce,
  onClose,
}: {
  projectId: string;
  resourceId: string;
  account: { id: string; name: string };
  checkAtOnce: boolean;
  onClose: () => void;
}) {
  const [status, setStatus] = useState<CredentialsStatus>();
  const [check, setCheck] = useState<Check | 'running' | undefined>(checkAtOnce ? 'running' : undefined);
  const [rotating, setRotating] = useState(false);
  const [error, setError] = useState<UiError>();

  const fetchCheck = () =>
    api<{ check: Check; credentials: CredentialsStatus }>('POST', `/projects/${projectId}/resources/${resourceId}/accounts/${account.id}/check`).then(
      (res) => {
        setCheck(res.check);
        setStatus(res.credentials);
      },
      (err: unknown) => {
        setCheck(undefined);
        setError(uiError(err));
      },
    );
  const runCheck = () => {
    setCheck('running');
    void fetchCheck();
  };
  useEffect(() => {
    api<{ credentials: CredentialsStatus }>('GET', `/accounts/${account.id}/credentials`).then(
      (r) => setStatus(r.credentials),
      (err: unknown) => setError(uiError(err)),
    );
    if (checkAtOnce) void fetchCheck();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, when the dialog opens
  }, [account.id]);

  const saveRotation = async (patch: { enabled?: boolean; intervalDays?: number }) => {
    try {
      setStatus((await api<{ credentials: CredentialsStatus }>('PATCH', `/accounts/${account.id}/rotation`, patch)).credentials);
    } catch (err) {
      setError(uiError(err));
    }
  };
  const rotateNow = async () => {
    setRotating(true);
    try {
      setStatus((await api<{ credentials: CredentialsStatus }>('POST', `/accounts/${account.id}/rotate`)).credentials);
    } catch (err) {
      setError(uiError(err));
    } finally {
      setRotating(false);
    }
  };

  const r = status?.rotation;
  return (
    <Dialog title={`Credentials of ${account.name}`} onClose={onClose} wide>
      <div className="actions">
        <button type="button" onClick={runCheck} disabled={check === 'running'}>
          Check connection
        </button>
      </div>
      <div role="status" aria-live="polite" data-check-result>
        {check === 'running' && <p className="muted">Logging in through the gateway…</p>}
        {check && check !== 'running' && check.ok && (
          <p className="ok notice ok-notice">
            Connected as the account in {check.latencyMs} ms{check.serverVersion ? ` (PostgreSQL ${check.serverVersion})` : ''}.
          </p>
        )}
        {check && check !== 'running' && !check.ok && (
          <p className="error">
            <strong>{check.code}</strong>
            {check.sqlstate ? ` (SQLSTATE ${check.sqlstate})` : ''}: {check.message}
          </p>
        )}
      </div>
      {status && (
        <dl className="details">
          <div>
            <dt>Health</dt>
            <dd data-health={status.health.status}>
              {status.health.status} <span className="muted small">({when(status.health.checkedAt)})</span>
              {status.health.error && (
                <span className="error-text small block">
                  {status.health.error.code}: {status.health.error.message}
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Last rotated</dt>
            <dd>{when(r!.lastRotatedAt)}</dd>
          </div>
          <div>
            <dt>Next rotation</dt>
            <dd>{r!.enabled ? when(r!.nextRotationAt) : 'rotation off'}</dd>
          </div>
          <div>
            <dt>Last result</dt>
            <dd data-rotation-result={r!.lastResult ?? 'none'}>
              {r!.lastResult ?? '—'}
              {r!.lastError ? ` — ${r!.lastError.code}: ${r!.lastError.message}` : ''}
            </dd>
          </div>
        </dl>
      )}
      {r && (
        <form onSubmit={(e) => e.preventDefault()}>
          <label className="check">
            <input type="checkbox" checked={r.enabled} onChange={(e) => void saveRotation({ enabled: e.target.checked })} />
            Rotate the password automatically
          </label>
          <label>
            Every
            <select value={r.intervalDays} onChange={(e) => void saveRotation({ intervalDays: Number(e.target.value) })}>
              {INTERVALS.map((d) => (
                <option key={d} value={d}>
                  {d} day{d === 1 ? '' : 's'}
                </option>
              ))}
            </select>
          </label>
          <div className="actions">
            <button type="button" onClick={() => void rotateNow()} disabled={rotating}>
              {rotating ? 'Rotating…' : 'Rotate now'}
            </button>
          </div>
        </form>
      )}
      <ErrorText error={error} />
    </Dialog>
  );
}

/** The resource's rotation account: a role that may ALTER its accounts' roles. Without one, accounts rotate their own passwords. */
export function RotationAccountDialog({ resourceId, onClose }: { resourceId: string; onClose: () => void }) {
  const [current, setCurrent] = useState<{ username: string } | null>();
  const [f, setF] = useState({ username: '', password: '' });
  const [error, setError] = useState<UiError>();
  useEffect(() => {
    api<{ rotationAccount: { username: string } | null }>('GET', `/resources/${resourceId}/rotation-account`).then(
      (r) => setCurrent(r.rotationAccount),
      (err: unknown) => setError(uiError(err)),
    );
  }, [resourceId]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      setCurrent(
        (
          await api<{ rotationAccount: { username: string } }>('PUT', `/resources/${resourceId}/rotation-account`, {
            username: f.username.trim(),
            password: f.password,
          })
        ).rotationAccount,
      );
      setF({ username: '', password: '' });
    } catch (err) {
      setError(uiError(err));
    }
  };
  const remove = async () => {
    try {
      await api('DELETE', `/resources/${resourceId}/rotation-account`);
      setCurrent(null);
    } catch (err) {
      setError(uiError(err));
    }
  };
  return (
    <Dialog title="Rotation account" onClose={onClose}>
      <p className="muted small">
        {current ? (
          <>
            Rotations run as <code>{current.username}</code>.
          </>
        ) : (
          'None: each account rotates its own password.'
        )}{' '}
        It needs CREATEROLE (and, on PostgreSQL 16+, ADMIN OPTION on the accounts’ roles).
      </p>
      {current && (
        <div className="actions">
          <button type="button" className="danger" onClick={() => void remove()}>
            Remove
          </button>
        </div>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Database user
          <input name="rotation-username" required value={f.username} onChange={(e) => setF((x) => ({ ...x, username: e.target.value }))} autoComplete="off" />
        </label>
        <label>
          Password
          <input
            name="rotation-password"
            type="password"
            required
            autoComplete="new-password"
            value={f.password}
            onChange={(e) => setF((x) => ({ ...x, password: e.target.value }))}
          />
        </label>
        <p className="muted small">Stored sealed, never shown again.</p>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary">
            {current ? 'Replace' : 'Set'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
