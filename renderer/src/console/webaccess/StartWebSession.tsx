/**
 * Starting a web session (Data Explorer or SQL terminal) on an account: the duration, then
 * whatever the account asks — a second factor, an approved access request — under the same
 * rules as a CLI session. Opens the view when the session is there.
 */
import { useState, type FormEvent } from 'react';
import type { MfaMethod } from '../../../../main/ipc/contract.ts';
import { MfaFields, orderMethods } from '../../shared/MfaFields.tsx';
import { api, ApiError } from '../api.ts';
import { Dialog, ErrorText, Link } from '../components/ui.tsx';
import { useRoute } from '../store/route.ts';
import { uiError, type UiError } from '../store/session.ts';
import { webApi } from './client.ts';
import { useWebSessions, viewPath, type WebView } from './store.ts';

export interface WebTarget {
  projectId: string;
  resourceId: string;
  resourceName: string;
  accountId: string;
  accountName: string;
}

const DURATIONS = ['15m', '1h', '4h', '8h'];
const TITLES: Record<WebView, string> = { explorer: 'Data Explorer', terminal: 'SQL terminal' };

export function StartWebSessionDialog({ target, view, onClose }: { target: WebTarget; view: WebView; onClose: () => void }) {
  const [duration, setDuration] = useState('1h');
  const [mfa, setMfa] = useState<{ methods: MfaMethod[]; method: MfaMethod; code: string; emailSent: boolean }>();
  const [approval, setApproval] = useState(false);
  const [requestId, setRequestId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError>();

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const info = await webApi.start({
        projectId: target.projectId,
        resourceId: target.resourceId,
        accountId: target.accountId,
        duration,
        ...(mfa && mfa.code && mfa.method !== 'recovery' ? { mfa: { method: mfa.method, code: mfa.code.trim() } } : {}),
        ...(requestId.trim() ? { accessRequestId: requestId.trim() } : {}),
      });
      useWebSessions.getState().add(info);
      onClose();
      useRoute.getState().navigate(viewPath(info.id, view));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'GATEHOUSE_ERR_MFA_REQUIRED' && !mfa) {
        const challenge =
          (err.body.error as { challenge?: { methods?: MfaMethod[] } } | undefined)?.challenge ?? (err.body.challenge as { methods?: MfaMethod[] } | undefined);
        const methods = orderMethods((challenge?.methods ?? ['totp']).filter((m) => m !== 'recovery'));
        setMfa({ methods, method: methods[0], code: '', emailSent: false });
      } else if (err instanceof ApiError && err.code === 'GATEHOUSE_ERR_APPROVAL_REQUIRED') {
        setApproval(true);
        setError(uiError(err));
      } else {
        setError(uiError(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const sendEmail = () => {
    void api('POST', '/me/mfa/email/send', {}).then(
      () => setMfa((m) => m && { ...m, emailSent: true }),
      (err) => setError(uiError(err)),
    );
  };

  return (
    <Dialog title={`${TITLES[view]}: ${target.resourceName} as ${target.accountName}`} onClose={onClose}>
      <form onSubmit={(e) => void start(e)}>
        <p className="muted small">A web session, under the same rules as the command line: every statement lands in its session log.</p>
        <label>
          Duration
          <select value={duration} onChange={(e) => setDuration(e.target.value)}>
            {DURATIONS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        {mfa && (
          <>
            <p className="muted small">This account asks for a second factor.</p>
            <MfaFields
              methods={mfa.methods}
              method={mfa.method}
              code={mfa.code}
              emailSent={mfa.emailSent}
              onMethod={(method) => setMfa({ ...mfa, method })}
              onCode={(code) => setMfa({ ...mfa, code })}
              onSendEmail={sendEmail}
            />
          </>
        )}
        {approval && (
          <label>
            Approved access request ID (optional)
            <input value={requestId} onChange={(e) => setRequestId(e.target.value)} placeholder="from Access requests" />
          </label>
        )}
        <ErrorText error={error} />
        {approval && (
          <p className="small">
            <Link to="/requests">Open Access requests</Link> to ask for access or find an approved request.
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Starting…' : `Open ${TITLES[view]}`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
