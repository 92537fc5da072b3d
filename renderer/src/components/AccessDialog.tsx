import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import type { AccessRequestInfo, AccountInfo, MfaMethod, SessionStatus } from '../../../main/ipc/contract.ts';
import { choicesUpTo, formatDuration, parseDuration, type DurationChoice } from '../lib/durations.ts';
import { accessFlowSelectors, useAccessFlow } from '../store/access-flow.ts';
import { useAccountsStore } from '../store/accounts.ts';
import { uiSelectors, useUiStore, type AccessTarget } from '../store/ui.ts';
import { MfaFields, orderMethods } from '../shared/MfaFields.tsx';

/** The usual choices this account's policy allows, plus the policy's own maximum when it is not one of them. */
export function durationOptions(account: Pick<AccountInfo, 'maxDurationSeconds'>): DurationChoice[] {
  const max = account.maxDurationSeconds;
  const offered = choicesUpTo(max);
  if (max !== undefined && !offered.some((c) => c.seconds === max) && max < 28_800) {
    offered.push({ value: `${max}s`, seconds: max, label: `${formatDuration(max)} (the most allowed)` });
  }
  return offered.sort((a, b) => a.seconds - b.seconds);
}

function defaultDuration(options: DurationChoice[]): string {
  return options.find((o) => o.value === '1h')?.value ?? options[options.length - 1]?.value ?? 'custom';
}

const FOCUSABLE = 'button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [href], [tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab inside `root`. */
export function trapTab(e: ReactKeyboardEvent, root: HTMLElement | null): void {
  if (e.key !== 'Tab' || !root) return;
  const items = Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null);
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (e.shiftKey && (document.activeElement === first || !root.contains(document.activeElement))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (document.activeElement === last || !root.contains(document.activeElement))) {
    e.preventDefault();
    first.focus();
  }
}

/**
 * Pick a duration the policy allows (and a port, and a reason where approval is needed),
 * then start access; the main process's access gate asks for a second factor or waits for
 * approval, and this dialog shows each of its steps. Focus stays inside; Escape closes.
 */
export function AccessDialog() {
  const target = useUiStore(uiSelectors.accessTarget);
  const flow = useAccessFlow(accessFlowSelectors.flow);
  const busy = useAccessFlow(accessFlowSelectors.busy);
  const error = useAccessFlow(accessFlowSelectors.error);
  const emailSent = useAccessFlow(accessFlowSelectors.emailSent);
  const [duration, setDuration] = useState('1h');
  const [customDuration, setCustomDuration] = useState('');
  const [customError, setCustomError] = useState<string>();
  const portInput = useRef<HTMLInputElement>(null);
  const [port, setPort] = useState('');
  const [reason, setReason] = useState('');
  const [method, setMethod] = useState<MfaMethod>('totp');
  const [code, setCode] = useState('');
  const dialog = useRef<HTMLDivElement>(null);

  // A new target resets the whole form (the custom duration too): adjusted while rendering
  // (React's "storing information from previous renders"), the focus in the effect.
  const [formTarget, setFormTarget] = useState<typeof target>(undefined);
  if (target !== formTarget) {
    setFormTarget(target);
    if (target) {
      setDuration(defaultDuration(durationOptions(target.account)));
      setCustomDuration('');
      setCustomError(undefined);
      setPort(target.account.port ? String(target.account.port) : '');
      setReason('');
      setCode('');
    }
  }
  const again = target?.againSessionId;
  useEffect(() => {
    if (!target) return;
    if (!again) useAccessFlow.getState().reset();
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    dialog.current?.querySelector<HTMLElement>(FOCUSABLE)?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, [target, again]);

  // Escape closes the dialog wherever the focus is (even on the backdrop or the body).
  useEffect(() => {
    if (!target) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      closeAccessDialog();
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, [target]);

  const portInUse = error?.code === 'GATEHOUSE_ERR_PORT_IN_USE';
  useEffect(() => {
    if (portInUse) portInput.current?.select();
  }, [portInUse, error]);

  const methods = flow.step === 'mfa' ? flow.methods : undefined;
  const [offeredMethods, setOfferedMethods] = useState<typeof methods>(undefined);
  if (methods !== offeredMethods) {
    setOfferedMethods(methods);
    if (methods) {
      setMethod(orderMethods(methods)[0] ?? 'totp');
      setCode('');
    }
  }

  if (!target) return null;
  const { group, account } = target;
  const options = durationOptions(account);
  const max = account.maxDurationSeconds;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!target) return;
    const flowState = useAccessFlow.getState();
    if (again && flow.step === 'form') return void startAgain(target);
    if (flow.step === 'mfa') return flowState.answer({ mfa: { method, code: code.trim() } });
    if (flow.step === 'reason') return flowState.answer({ reason: reason.trim() });
    let chosen = duration;
    if (duration === 'custom') {
      const seconds = parseDuration(customDuration);
      if (seconds === undefined) return setCustomError('Enter a number of seconds, or a number followed by s, m or h (e.g. 45m).');
      if (max !== undefined && seconds > max) return setCustomError(`At most ${formatDuration(max)} for this account (its policy's maximum).`);
      chosen = `${seconds}s`;
    }
    setCustomError(undefined);
    const portNumber = port ? Number(port) : undefined;
    const status = await flowState.begin({
      projectId: group.projectId,
      resource: group.resource.name,
      account: account.name,
      duration: chosen,
      ...(portNumber ? { port: portNumber } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
    });
    if (status) showStarted(target, status);
  }

  const waiting = flow.step === 'waiting' ? flow.request : undefined;
  const inGate = flow.step !== 'form';
  const askReason = account.requireApproval || flow.step === 'reason';
  return (
    <div
      className="backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && !waiting) closeAccessDialog();
      }}
    >
      <div
        ref={dialog}
        className="card dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="access-title"
        aria-describedby="access-help"
        onKeyDown={(e) => trapTab(e, dialog.current)}
      >
        <h2 id="access-title">
          {again ? 'Access again: ' : 'Access '}
          {group.resource.name} as {account.name}
        </h2>
        <p id="access-help" className="muted small">
          A local proxy starts on 127.0.0.1; connect with any PostgreSQL client, no password needed.
        </p>
        {account.gateway.status === 'offline' && (
          <p className="notice small" role="status" data-testid="gateway-offline-notice">
            The gateway for {group.resource.name} is offline
            {account.gateway.lastSeenAt ? ` (last seen ${new Date(account.gateway.lastSeenAt).toLocaleTimeString()})` : ''}: the session may start but
            connections fail until it is back.
          </p>
        )}
        {waiting ? (
          <>
            <WaitingForApproval request={waiting} approvals={flow.step === 'waiting' ? flow.approvals : 0} />
            <div className="actions">
              <button type="button" onClick={() => void useAccessFlow.getState().cancel()}>
                Stop waiting
              </button>
              <button type="button" onClick={closeAccessDialog}>
                Close
              </button>
            </div>
          </>
        ) : flow.step === 'refused' ? (
          <>
            <p className="error" role="alert" data-code="GATEHOUSE_ERR_REQUEST_DENIED">
              {flow.message}
            </p>
            <div className="actions">
              <button type="button" onClick={closeAccessDialog}>
                Close
              </button>
            </div>
          </>
        ) : (
          <form onSubmit={(e) => void onSubmit(e)}>
            {!again && (
              <>
                <label>
                  Duration{max !== undefined && <span className="muted small"> (at most {formatDuration(max)} for this account)</span>}
                  <select
                    value={duration}
                    onChange={(e) => {
                      setDuration(e.target.value);
                      setCustomError(undefined);
                    }}
                    disabled={inGate}
                  >
                    {options.map((d) => (
                      <option key={d.value} value={d.value}>
                        {d.label}
                      </option>
                    ))}
                    <option value="custom">Custom…</option>
                  </select>
                </label>
                {duration === 'custom' && (
                  <label>
                    Custom duration <span className="muted small">(e.g. 90s, 45m, 2h)</span>
                    <input
                      type="text"
                      required
                      placeholder="45m"
                      value={customDuration}
                      disabled={inGate}
                      aria-invalid={customError ? true : undefined}
                      aria-describedby={customError ? 'custom-error' : undefined}
                      onChange={(e) => {
                        setCustomDuration(e.target.value);
                        setCustomError(undefined);
                      }}
                    />
                  </label>
                )}
                {customError && (
                  <p id="custom-error" className="error-text small" role="alert">
                    {customError}
                  </p>
                )}
                <label>
                  Local port <span className="muted small">(optional; kept for next time)</span>
                  <input
                    ref={portInput}
                    type="number"
                    min={1}
                    max={65535}
                    inputMode="numeric"
                    placeholder="automatic"
                    value={port}
                    onChange={(e) => setPort(e.target.value)}
                    disabled={inGate}
                    aria-invalid={portInUse || undefined}
                    aria-describedby={portInUse ? 'access-error' : undefined}
                  />
                </label>
              </>
            )}
            {askReason && (
              <label>
                Reason <span className="muted small">(approvers see it)</span>
                <textarea required value={reason} onChange={(e) => setReason(e.target.value)} rows={2} disabled={inGate && flow.step !== 'reason'} />
              </label>
            )}
            {flow.step === 'mfa' && (
              <MfaFields
                methods={flow.methods}
                method={method}
                code={code}
                emailSent={emailSent}
                sending={busy}
                onMethod={(m) => {
                  setMethod(m);
                  setCode('');
                }}
                onCode={setCode}
                onSendEmail={() => void useAccessFlow.getState().sendEmailCode()}
              />
            )}
            {flow.step === 'approved' && (
              <p className="notice small" role="status">
                Approved by {flow.by.join(', ')}; starting…
              </p>
            )}
            {error && (
              <p id="access-error" className="error" role="alert" data-code={error.code}>
                {error.message}
              </p>
            )}
            <div className="actions">
              <button type="button" onClick={closeAccessDialog}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={busy}>
                {busy
                  ? 'Starting…'
                  : flow.step === 'mfa'
                    ? 'Verify and start'
                    : flow.step === 'reason' || account.requireApproval
                      ? 'Request access'
                      : again
                        ? 'Access again'
                        : 'Start access'}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}

/** The session is running: remember its port, close the dialog, open its panel. */
function showStarted({ group, account }: AccessTarget, status: SessionStatus): void {
  useAccountsStore.getState().rememberPort(group.projectId, group.resource.name, account.name, status.port);
  useUiStore.getState().closeAccess();
  useUiStore.getState().selectSession(status.sessionId);
  useUiStore.getState().show('sessions');
}

/** Access again on an ended session: the dialog shows the gate's steps (MFA, approval) as they come. */
export async function startAgain(target: AccessTarget & { againSessionId?: string }): Promise<void> {
  if (!target.againSessionId) return;
  useUiStore.getState().openAccess(target);
  const status = await useAccessFlow.getState().accessAgain(target.againSessionId);
  if (status) showStarted(target, status);
}

/** Closes the dialog; a running gate is stopped (a pending request stays open on the server). */
function closeAccessDialog(): void {
  void useAccessFlow.getState().cancel();
  useUiStore.getState().closeAccess();
}

function WaitingForApproval({ request, approvals }: { request: AccessRequestInfo; approvals: number }) {
  return (
    <div className="waiting" role="status" aria-live="polite" data-testid="approval-status">
      <span className="spinner" aria-hidden="true" />
      <div>
        <strong>Waiting for approval…</strong>
        <div className="small">
          Request <code>{request.id}</code> · {approvals} of {request.requiredApprovals} approval{request.requiredApprovals === 1 ? '' : 's'} · status{' '}
          <span data-testid="request-status">{request.status}</span>
        </div>
        <div className="muted small">The session starts as soon as it is approved. You can close this; the request stays open.</div>
      </div>
    </div>
  );
}
