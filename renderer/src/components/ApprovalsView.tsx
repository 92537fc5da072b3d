import { memo, useEffect, useState } from 'react';
import type { AccessRequestInfo } from '../../../main/ipc/contract.ts';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { requestSelectors, useRequestsStore } from '../store/requests.ts';
import { useUiStore } from '../store/ui.ts';
import { formatDuration } from '../lib/durations.ts';

/** Access requests waiting for the person's decision (approvers and admins), with Approve / Deny. */
export function ApprovalsView() {
  const pending = useRequestsStore(requestSelectors.pending);
  const status = useRequestsStore(requestSelectors.status);
  const error = useRequestsStore(requestSelectors.error);
  const me = useAuthStore(authSelectors.user);

  // the Shell keeps polling (for the badge); opening the view refreshes at once
  useEffect(() => {
    void useRequestsStore.getState().load();
  }, []);

  const decidable = pending.filter((r) => r.userId !== me?.id);
  return (
    <section aria-labelledby="approvals-title">
      <header className="view-header">
        <h2 id="approvals-title">Approvals</h2>
        <button type="button" onClick={() => void useRequestsStore.getState().load()}>
          Refresh
        </button>
      </header>
      {status === 'loading' && (
        <p className="muted" aria-busy="true">
          Loading requests…
        </p>
      )}
      {status === 'error' && error && (
        <p className="error" role="alert" data-code={error.code}>
          {error.message}
        </p>
      )}
      {status === 'loaded' && decidable.length === 0 && <p className="empty">No access requests are waiting for you.</p>}
      <ul className="request-list" aria-label="Pending access requests">
        {decidable.map((r) => (
          <RequestItem key={r.id} request={r} />
        ))}
      </ul>
    </section>
  );
}

const RequestItem = memo(function RequestItem({ request: r }: { request: AccessRequestInfo }) {
  const state = useRequestsStore(requestSelectors.deciding(r.id));
  const [comment, setComment] = useState('');
  const approvals = r.approvals.filter((a) => a.decision === 'approve' || a.decision === 'approved').length;
  const decide = async (decision: 'approve' | 'deny') => {
    const result = await useRequestsStore.getState().decide(r.id, decision, comment.trim() || undefined);
    if (result) {
      useUiStore.getState().toast({
        kind: 'info',
        title:
          result.status === 'approved'
            ? `Approved ${r.userEmail}'s access to ${r.resource.name} / ${r.account.name}`
            : result.status === 'denied'
              ? `Denied ${r.userEmail}'s request`
              : `Approval recorded (${approvals + 1} of ${r.requiredApprovals})`,
      });
    }
  };
  return (
    <li className="card request" aria-label={`Request from ${r.userEmail} for ${r.account.name} on ${r.resource.name}`}>
      <div className="request-head">
        <strong>
          {r.userEmail} → {r.resource.name} / {r.account.name}
        </strong>
        <span className="muted small">
          {formatDuration(r.durationSeconds)} · {approvals} of {r.requiredApprovals} approvals · <code>{r.id}</code>
        </span>
      </div>
      <p className="reason">{r.reason}</p>
      <input
        className="comment"
        aria-label="Comment"
        placeholder="Comment (optional; the requester sees it)"
        value={comment}
        onChange={(e) => setComment(e.target.value)}
      />
      {state && state !== 'busy' && (
        <p className="error" role="alert" data-code={state.code}>
          {state.message}
        </p>
      )}
      <div className="actions left">
        <button type="button" className="primary" disabled={state === 'busy'} onClick={() => void decide('approve')}>
          Approve
        </button>
        <button type="button" className="danger" disabled={state === 'busy'} onClick={() => void decide('deny')}>
          Deny
        </button>
      </div>
    </li>
  );
});
