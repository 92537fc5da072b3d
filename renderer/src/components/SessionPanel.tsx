import { useState } from 'react';
import type { SessionStatus } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { copyText } from '../shared/clipboard.ts';
import { toUiError, type UiError } from '../lib/errors.ts';
import { formatBytes } from '../shared/format.ts';
import { useCommitCount } from '../lib/render-count.ts';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';
import { useUiStore } from '../store/ui.ts';
import { StateDot, TimeLeft, stateLabel } from './SessionState.tsx';

/** Everything about one running session: where to connect, live numbers, client launchers, Stop. */
export function SessionPanel({ id }: { id: string }) {
  const s = useSessionsStore(sessionSelectors.byId(id));
  const [error, setError] = useState<UiError>();
  useCommitCount('SessionPanel');
  if (!s) return null;
  const live = s.state === 'ready';

  async function run(action: () => Promise<unknown>) {
    setError(undefined);
    try { await action(); } catch (err) { setError(toUiError(err)); }
  }
  async function copyJdbc() {
    const { url, copied } = await ipc['clients.copyJdbcUrl']({ sessionId: id });
    if (copied || (await copyText(url))) useUiStore.getState().toast({ kind: 'info', title: 'JDBC URL copied', body: url });
  }

  return (
    <article className="card panel" aria-labelledby="panel-title">
      <header className="panel-header">
        <div>
          <h3 id="panel-title">{s.resourceName} / {s.accountName}</h3>
          <div className="muted small"><StateDot state={s.state} /> <span data-testid="session-state">{stateLabel(s.state, s.endReason)}</span>
            {live && <> · <TimeLeft expiresAt={s.expiresAt} /></>}</div>
        </div>
        {s.state === 'ready' || s.state === 'starting' ? (
          <button type="button" className="danger" onClick={() => void run(() => useSessionsStore.getState().stop(id))}>Stop</button>
        ) : s.state !== 'ending' && (
          <button type="button" onClick={() => useSessionsStore.getState().dismiss(id)}>Remove</button>
        )}
      </header>
      {s.error && <p className="error" role="alert">{s.error.message}</p>}
      {s.state === 'ended' && (s.endReason === 'expired' || s.endReason === 'revoked') && <EndedNotice s={s} />}
      <UrlField url={s.url} disabled={!live} />
      <dl className="details">
        <Detail label="Host" value={s.host} />
        <Detail label="Port" value={String(s.port)} />
        <Detail label="Database" value={s.database} />
        <Detail label="User" value={s.username} />
      </dl>
      <Stats s={s} />
      <div className="actions left">
        <button type="button" disabled={!live} onClick={() => void run(() => ipc['clients.openPsql']({ sessionId: id }))}>Open in psql</button>
        <button type="button" disabled={!live} onClick={() => void run(() => ipc['clients.openDbeaver']({ sessionId: id }))}>Open in DBeaver</button>
        <button type="button" disabled={!live} onClick={() => void run(copyJdbc)}>Copy JDBC URL</button>
      </div>
      {error && <p className="error" role="alert" data-code={error.code}>{error.message}</p>}
    </article>
  );
}

/** Why a session the person did not stop is over, and what to do next. */
function EndedNotice({ s }: { s: SessionStatus }) {
  const what = s.endReason === 'expired'
    ? `This session expired at ${new Date(s.expiresAt).toLocaleTimeString()}`
    : 'An administrator revoked this session';
  return (
    <p className="notice" role="status" data-testid="ended-notice">
      {what}; its connections were closed and the local port no longer accepts new ones.
      To keep working, go to Accounts and click <strong>Access</strong> again.
    </p>
  );
}

function UrlField({ url, disabled }: { url: string; disabled: boolean }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="url-field">
      <label htmlFor="conn-url">Connection URL</label>
      <div className="url-row">
        <input id="conn-url" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" disabled={disabled} onClick={() => void copyText(url).then((ok) => { setCopied(ok); setTimeout(() => setCopied(false), 1500); })}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

function Detail({ label, value }: { label: string; value: string }) {
  return <div><dt>{label}</dt><dd><code>{value}</code></dd></div>;
}

function Stats({ s }: { s: SessionStatus }) {
  return (
    <dl className="stats" aria-label="Live statistics">
      <div><dt>Connections</dt><dd data-testid="stat-connections">{s.connections}</dd></div>
      <div><dt>Statements</dt><dd data-testid="stat-statements">{s.statements}</dd></div>
      <div><dt>Bytes in</dt><dd>{formatBytes(s.bytesIn)}</dd></div>
      <div><dt>Bytes out</dt><dd>{formatBytes(s.bytesOut)}</dd></div>
    </dl>
  );
}
