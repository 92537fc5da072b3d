import { useEffect, useRef, useState, type FormEvent } from 'react';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';
import { useAccountsStore } from '../store/accounts.ts';
import { uiSelectors, useUiStore } from '../store/ui.ts';

const DURATIONS = [
  { value: '15m', label: '15 minutes' }, { value: '1h', label: '1 hour' }, { value: '4h', label: '4 hours' }, { value: '8h', label: '8 hours' },
];

/** Pick a duration (and a port, and a reason where approval is needed), then start access. */
export function AccessDialog() {
  const target = useUiStore(uiSelectors.accessTarget);
  const starting = useSessionsStore(sessionSelectors.starting);
  const error = useSessionsStore(sessionSelectors.startError);
  const [duration, setDuration] = useState('1h');
  const [port, setPort] = useState('');
  const [reason, setReason] = useState('');
  const dialog = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!target) return;
    setPort(target.account.port ? String(target.account.port) : '');
    setReason('');
    useSessionsStore.getState().clearStartError();
    dialog.current?.querySelector<HTMLElement>('select')?.focus();
  }, [target]);

  if (!target) return null;
  const { group, account } = target;
  const close = () => useUiStore.getState().closeAccess();

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const portNumber = port ? Number(port) : undefined;
    const status = await useSessionsStore.getState().start({
      projectId: group.projectId, resource: group.resource.name, account: account.name, duration,
      ...(portNumber ? { port: portNumber } : {}), ...(reason ? { reason } : {}),
    });
    if (status) {
      useAccountsStore.getState().rememberPort(group.projectId, group.resource.name, account.name, status.port);
      useUiStore.getState().closeAccess();
      useUiStore.getState().selectSession(status.sessionId);
      useUiStore.getState().show('sessions');
    }
  }

  return (
    <div className="backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) close(); }}>
      <div ref={dialog} className="card dialog" role="dialog" aria-modal="true" aria-labelledby="access-title"
        onKeyDown={(e) => { if (e.key === 'Escape') close(); }}>
        <h2 id="access-title">Access {group.resource.name} as {account.name}</h2>
        <p className="muted small">A local proxy starts on 127.0.0.1; connect with any PostgreSQL client, no password needed.</p>
        <form onSubmit={(e) => void onSubmit(e)}>
          <label>Duration
            <select value={duration} onChange={(e) => setDuration(e.target.value)}>
              {DURATIONS.map((d) => <option key={d.value} value={d.value}>{d.label}</option>)}
            </select>
          </label>
          <label>Local port <span className="muted small">(optional; kept for next time)</span>
            <input type="number" min={1} max={65535} inputMode="numeric" placeholder="automatic" value={port} onChange={(e) => setPort(e.target.value)} />
          </label>
          {account.requireApproval && (
            <label>Reason
              <textarea required value={reason} onChange={(e) => setReason(e.target.value)} rows={2} />
            </label>
          )}
          {error && <p className="error" role="alert" data-code={error.code}>{error.message}</p>}
          <div className="actions">
            <button type="button" onClick={close}>Cancel</button>
            <button type="submit" className="primary" disabled={starting}>{starting ? 'Starting…' : 'Start access'}</button>
          </div>
        </form>
      </div>
    </div>
  );
}
