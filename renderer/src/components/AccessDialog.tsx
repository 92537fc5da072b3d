import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { AccessRequestInfo, MfaMethod } from '../../../main/ipc/contract.ts';
import { accessFlowSelectors, useAccessFlow } from '../store/access-flow.ts';
import { useAccountsStore } from '../store/accounts.ts';
import { uiSelectors, useUiStore } from '../store/ui.ts';
import { MfaFields, orderMethods } from '../shared/MfaFields.tsx';

const DURATIONS = [
  { value: '15m', label: '15 minutes' }, { value: '1h', label: '1 hour' }, { value: '4h', label: '4 hours' }, { value: '8h', label: '8 hours' },
  { value: 'custom', label: 'Custom…' },
];

/**
 * Pick a duration (and a port, and a reason where approval is needed), then start access;
 * asks for a second factor when the server wants one, and waits for approval visibly.
 */
export function AccessDialog() {
  const target = useUiStore(uiSelectors.accessTarget);
  const flow = useAccessFlow(accessFlowSelectors.flow);
  const busy = useAccessFlow(accessFlowSelectors.busy);
  const error = useAccessFlow(accessFlowSelectors.error);
  const emailSent = useAccessFlow(accessFlowSelectors.emailSent);
  const [duration, setDuration] = useState('1h');
  const [customDuration, setCustomDuration] = useState('');
  const portInput = useRef<HTMLInputElement>(null);
  const [port, setPort] = useState('');
  const [reason, setReason] = useState('');
  const [method, setMethod] = useState<MfaMethod>('totp');
  const [code, setCode] = useState('');
  const dialog = useRef<HTMLDivElement>(null);

  // A new target resets the form: adjusted while rendering (React's "storing information from
  // previous renders"), the flow store and the focus in the effect.
  const [formTarget, setFormTarget] = useState<typeof target>(undefined);
  if (target !== formTarget) {
    setFormTarget(target);
    if (target) {
      setPort(target.account.port ? String(target.account.port) : '');
      setReason('');
      setCode('');
    }
  }
  useEffect(() => {
    if (!target) return;
    useAccessFlow.getState().reset();
    dialog.current?.querySelector<HTMLElement>('select')?.focus();
  }, [target]);

  const portInUse = error?.code === 'GATEHOUSE_ERR_PORT_IN_USE';
  useEffect(() => {
    if (portInUse) portInput.current?.select();
  }, [portInUse, error]);

  const methods = flow.step === 'mfa' ? flow.methods : undefined;
  const [offeredMethods, setOfferedMethods] = useState<typeof methods>(undefined);
  if (methods !== offeredMethods) {
    setOfferedMethods(methods);
    if (methods) setMethod(orderMethods(methods)[0] ?? 'totp');
  }

  if (!target) return null;
  const { group, account } = target;
  const close = () => {
    useAccessFlow.getState().reset();
    useUiStore.getState().closeAccess();
  };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!target) return;
    const portNumber = port ? Number(port) : undefined;
    const chosen = duration === 'custom' ? customDuration.replace(/\s+/g, '').toLowerCase() : duration;
    const status = await useAccessFlow.getState().submit({
      projectId: group.projectId, resource: group.resource.name, account: account.name, duration: chosen,
      requireApproval: account.requireApproval,
      ...(portNumber ? { port: portNumber } : {}), ...(reason.trim() ? { reason: reason.trim() } : {}),
    }, flow.step === 'mfa' ? { method, code: code.trim() } : undefined);
    if (status) {
      useAccountsStore.getState().rememberPort(group.projectId, group.resource.name, account.name, status.port);
      close();
      useUiStore.getState().selectSession(status.sessionId);
      useUiStore.getState().show('sessions');
    } else {
      setCode('');
    }
  }

  const waiting = flow.step === 'waiting' ? flow.request : undefined;
  return (
    <div className="backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget && !waiting) close(); }}>
      <div ref={dialog} className="card dialog" role="dialog" aria-modal="true" aria-labelledby="access-title"
        onKeyDown={(e) => { if (e.key === 'Escape') close(); }}>
        <h2 id="access-title">Access {group.resource.name} as {account.name}</h2>
        <p className="muted small">A local proxy starts on 127.0.0.1; connect with any PostgreSQL client, no password needed.</p>
        {waiting ? (
          <>
            <WaitingForApproval request={waiting} />
            <div className="actions">
              <button type="button" onClick={() => useAccessFlow.getState().cancelWaiting()}>Stop waiting</button>
              <button type="button" onClick={close}>Close</button>
            </div>
          </>
        ) : flow.step === 'refused' ? (
          <>
            <p className="error" role="alert" data-code="GATEHOUSE_ERR_REQUEST_DENIED">{flow.message}</p>
            <div className="actions"><button type="button" onClick={close}>Close</button></div>
          </>
        ) : (
          <form onSubmit={(e) => void onSubmit(e)}>
            <label>Duration
              <select value={duration} onChange={(e) => setDuration(e.target.value)} disabled={flow.step === 'mfa'}>
                {DURATIONS.map((d) => <option key={d.value} value={d.value}>{d.label}</option>)}
              </select>
            </label>
            {duration === 'custom' && (
              <label>Custom duration <span className="muted small">(e.g. 90s, 45m, 2h)</span>
                <input type="text" required autoFocus pattern="\s*\d+\s*[smhSMH]?\s*" title="A number of seconds, or a number followed by s, m or h"
                  placeholder="45m" value={customDuration} onChange={(e) => setCustomDuration(e.target.value)} disabled={flow.step === 'mfa'} />
              </label>
            )}
            <label>Local port <span className="muted small">(optional; kept for next time)</span>
              <input ref={portInput} type="number" min={1} max={65535} inputMode="numeric" placeholder="automatic" value={port} onChange={(e) => setPort(e.target.value)}
                aria-invalid={portInUse || undefined} aria-describedby={portInUse ? 'access-error' : undefined} />
            </label>
            {account.requireApproval && (
              <label>Reason <span className="muted small">(approvers see it)</span>
                <textarea required value={reason} onChange={(e) => setReason(e.target.value)} rows={2} disabled={flow.step === 'mfa'} />
              </label>
            )}
            {flow.step === 'mfa' && (
              <MfaFields methods={flow.methods} method={method} code={code} emailSent={emailSent} sending={busy}
                onMethod={(m) => { setMethod(m); setCode(''); }} onCode={setCode} onSendEmail={() => void useAccessFlow.getState().sendEmailCode()} />
            )}
            {error && <p id="access-error" className="error" role="alert" data-code={error.code}>{error.message}</p>}
            <div className="actions">
              <button type="button" onClick={close}>Cancel</button>
              <button type="submit" className="primary" disabled={busy}>
                {busy ? 'Starting…' : flow.step === 'mfa' ? 'Verify and start' : account.requireApproval ? 'Request access' : 'Start access'}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}

function WaitingForApproval({ request }: { request: AccessRequestInfo }) {
  const approvals = request.approvals.filter((a) => a.decision === 'approve' || a.decision === 'approved');
  return (
    <div className="waiting" role="status" aria-live="polite" data-testid="approval-status">
      <span className="spinner" aria-hidden="true" />
      <div>
        <strong>Waiting for approval…</strong>
        <div className="small">
          Request <code>{request.id}</code> · {approvals.length} of {request.requiredApprovals} approval{request.requiredApprovals === 1 ? '' : 's'} · status <span data-testid="request-status">{request.status}</span>
        </div>
        <div className="muted small">The session starts as soon as it is approved. You can close this; the request stays open.</div>
      </div>
    </div>
  );
}
