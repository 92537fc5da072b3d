import { useState, type FormEvent } from 'react';
import type { AccountGroup, AccountInfo, MfaMethod, SessionStatus } from '../../../main/ipc/contract.ts';
import { MfaFields, orderMethods } from '../shared/MfaFields.tsx';
import { ipc } from '../ipc.ts';
import { copyText } from '../shared/clipboard.ts';
import { toUiError, type UiError } from '../lib/errors.ts';
import { choicesUpTo, formatDuration } from '../lib/durations.ts';
import { formatBytes } from '../shared/format.ts';
import { useCommitCount } from '../lib/render-count.ts';
import { accountSelectors, useAccountsStore } from '../store/accounts.ts';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';
import { useUiStore } from '../store/ui.ts';
import { startAgain } from './AccessDialog.tsx';
import { ClientProfiles } from './ClientProfiles.tsx';
import { StateDot, TimeLeft, describeSession } from './SessionState.tsx';

/** The account a session is for, from the Accounts list (or rebuilt from the session when the list lacks it). */
function accountOf(s: SessionStatus): { group: AccountGroup; account: AccountInfo } {
  for (const group of useAccountsStore.getState().groups) {
    if (group.projectId !== s.projectId || group.resource.name !== s.resourceName) continue;
    const account = group.accounts.find((a) => a.name === s.accountName);
    if (account) return { group, account };
  }
  const account: AccountInfo = {
    id: '',
    name: s.accountName,
    description: '',
    username: s.username,
    requireMfa: false,
    requireApproval: false,
    gateway: { status: 'connected', lastSeenAt: null },
  };
  return { group: { projectId: s.projectId, projectName: '', resource: { id: '', name: s.resourceName, database: s.database }, accounts: [account] }, account };
}

/** Everything about one session: its real state, where to connect, live numbers, client launchers, extend, Stop. */
export function SessionPanel({ id }: { id: string }) {
  const s = useSessionsStore(sessionSelectors.byId(id));
  const [error, setError] = useState<UiError>();
  useCommitCount('SessionPanel');
  if (!s) return null;
  const shown = describeSession(s);
  const live = s.state === 'ready';

  async function run(action: () => Promise<unknown>) {
    setError(undefined);
    try {
      await action();
    } catch (err) {
      setError(toUiError(err));
    }
  }
  async function copyJdbc() {
    const { url, copied } = await ipc['clients.copyJdbcUrl']({ sessionId: id });
    if (copied || (await copyText(url))) useUiStore.getState().toast({ kind: 'info', title: 'JDBC URL copied', body: url });
  }
  const again = () => void startAgain({ ...accountOf(s), againSessionId: id });

  return (
    <article className="card panel" aria-labelledby="panel-title">
      <header className="panel-header">
        <div>
          <h3 id="panel-title">
            {s.resourceName} / {s.accountName}
          </h3>
          <div className="muted small">
            <StateDot state={shown.state} />{' '}
            <span data-testid="session-state" data-state={shown.state}>
              {shown.label}
            </span>
            {live && (
              <>
                {' '}
                · <TimeLeft expiresAt={s.expiresAt} />
              </>
            )}
          </div>
        </div>
        <div className="panel-buttons">
          {s.state === 'ready' || s.state === 'starting' ? (
            <button type="button" className="danger" onClick={() => void run(() => useSessionsStore.getState().stop(id))}>
              Stop
            </button>
          ) : (
            s.state !== 'ending' && (
              <>
                <button type="button" className="primary" onClick={again}>
                  Access again
                </button>
                <button type="button" onClick={() => useSessionsStore.getState().dismiss(id)}>
                  Remove
                </button>
              </>
            )
          )}
        </div>
      </header>
      {s.error && s.state !== 'ended' && (
        <p className="error" role="alert">
          {s.error.message}
        </p>
      )}
      {(shown.state === 'reconnecting' || shown.state === 'gateway-offline') && (
        <p className="notice" role="status" data-testid="connection-notice">
          <strong>{shown.label}:</strong> {shown.detail} Connections already open may have been cut.
        </p>
      )}
      {shown.state === 'ended' && s.endReason !== 'stopped' && <EndedNotice s={s} detail={shown.detail} />}
      <UrlField url={s.url} disabled={!live} />
      <dl className="details">
        <Detail label="Host" value={s.host} />
        <Detail label="Port" value={String(s.port)} />
        <Detail label="Database" value={s.database} />
        <Detail label="User" value={s.username} />
      </dl>
      <Stats s={s} />
      <div className="actions left">
        <button type="button" disabled={!live} onClick={() => void run(() => ipc['clients.openPsql']({ sessionId: id }))}>
          Open in psql
        </button>
        <button type="button" disabled={!live} onClick={() => void run(() => ipc['clients.openDbeaver']({ sessionId: id }))}>
          Open in DBeaver
        </button>
        <button type="button" disabled={!live} onClick={() => void run(copyJdbc)}>
          Copy JDBC URL
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-code={error.code}>
          {error.message}
        </p>
      )}
      {live && <ExtendSession s={s} />}
      <ClientProfiles projectId={s.projectId} resource={s.resourceName} account={s.accountName} />
    </article>
  );
}

/** Adds time to a running session without dropping its connections (only what the policy allows is offered). */
function ExtendSession({ s }: { s: SessionStatus }) {
  const maxSeconds = useAccountsStore(accountSelectors.maxDuration(s.projectId, s.resourceName, s.accountName));
  const options = choicesUpTo(maxSeconds);
  const [choice, setChoice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError>();
  /** The account wants a fresh second factor for the extension too. */
  const [mfaMethods, setMfaMethods] = useState<MfaMethod[]>();
  const [method, setMethod] = useState<MfaMethod>('totp');
  const [code, setCode] = useState('');
  const [emailSent, setEmailSent] = useState(false);
  const value = choice && options.some((o) => o.value === choice) ? choice : options[0]?.value;
  if (!value) return null;
  async function extend(e?: FormEvent) {
    e?.preventDefault();
    if (!value) return;
    setBusy(true);
    setError(undefined);
    try {
      const status = await useSessionsStore.getState().extend(s.sessionId, value, mfaMethods ? { method, code: code.trim() } : undefined);
      setMfaMethods(undefined);
      setCode('');
      useUiStore.getState().toast({
        kind: 'info',
        title: `Extended ${s.resourceName} / ${s.accountName}`,
        body: `Now ends at ${new Date(status.expiresAt).toLocaleTimeString()}; open connections stay open.`,
      });
    } catch (err) {
      const ui = toUiError(err);
      if (ui.code === 'GATEHOUSE_ERR_MFA_REQUIRED' || (ui.code === 'GATEHOUSE_ERR_MFA_INVALID' && mfaMethods)) {
        const methods = ui.details?.challenge?.methods ?? mfaMethods ?? ['totp'];
        if (!mfaMethods) setMethod(orderMethods(methods)[0] ?? 'totp');
        setMfaMethods(methods);
        setCode('');
        if (ui.code === 'GATEHOUSE_ERR_MFA_INVALID') setError(ui);
      } else {
        setError(ui);
      }
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="extend" onSubmit={(e) => void extend(e)} aria-label="Extend this session">
      <label htmlFor={`extend-${s.sessionId}`} className="inline">
        Extend by
      </label>
      <select id={`extend-${s.sessionId}`} value={value} onChange={(e) => setChoice(e.target.value)} disabled={Boolean(mfaMethods)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {!mfaMethods && (
        <button type="submit" disabled={busy}>
          {busy ? 'Extending…' : 'Extend'}
        </button>
      )}
      {maxSeconds !== undefined && <span className="muted small">policy maximum {formatDuration(maxSeconds)}</span>}
      {mfaMethods && (
        <div className="extend-mfa">
          <MfaFields
            methods={mfaMethods}
            method={method}
            code={code}
            emailSent={emailSent}
            sending={busy}
            onMethod={(m) => {
              setMethod(m);
              setCode('');
            }}
            onCode={setCode}
            onSendEmail={() =>
              void ipc['auth.sendEmailCode']({}).then(
                () => setEmailSent(true),
                (err: unknown) => setError(toUiError(err)),
              )
            }
          />
          <div className="actions left">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Extending…' : 'Verify and extend'}
            </button>
            <button
              type="button"
              onClick={() => {
                setMfaMethods(undefined);
                setError(undefined);
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className="error" role="alert" data-code={error.code}>
          {error.message}
        </p>
      )}
    </form>
  );
}

/** Why a session the person did not stop is over (and who revoked it), and what to do next. */
function EndedNotice({ s, detail }: { s: SessionStatus; detail: string | undefined }) {
  const what =
    s.endReason === 'expired'
      ? `This session expired at ${new Date(s.expiresAt).toLocaleTimeString()}`
      : s.endReason === 'revoked'
        ? s.connection?.revokedBy
          ? `${s.connection.revokedBy} revoked this session`
          : 'An administrator revoked this session'
        : 'This session ended';
  // the expiry time says it all; "revoked by X" is already the sentence's subject
  const given = s.connection?.reason ?? (s.endReason !== 'revoked' ? detail : undefined);
  const reason = s.endReason === 'expired' || (given && /^revoked by /i.test(given)) ? undefined : given;
  return (
    <p className="notice" role="status" data-testid="ended-notice">
      {what}
      {reason ? ` (${reason})` : ''}; its connections were closed and the local port no longer accepts new ones. To keep working, click{' '}
      <strong>Access again</strong>.
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
        <button
          type="button"
          disabled={disabled}
          onClick={() =>
            void copyText(url).then((ok) => {
              setCopied(ok);
              setTimeout(() => setCopied(false), 1500);
            })
          }
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

function Detail({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>
        <code>{value}</code>
      </dd>
    </div>
  );
}

function Stats({ s }: { s: SessionStatus }) {
  return (
    <dl className="stats" aria-label="Live statistics">
      <div>
        <dt>Connections</dt>
        <dd data-testid="stat-connections">{s.connections}</dd>
      </div>
      <div>
        <dt>Statements</dt>
        <dd data-testid="stat-statements">{s.statements}</dd>
      </div>
      <div>
        <dt>Bytes in</dt>
        <dd>{formatBytes(s.bytesIn)}</dd>
      </div>
      <div>
        <dt>Bytes out</dt>
        <dd>{formatBytes(s.bytesOut)}</dd>
      </div>
    </dl>
  );
}
