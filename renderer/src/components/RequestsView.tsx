import { useEffect } from 'react';
import type { AccessRequestInfo } from '../../../main/ipc/contract.ts';
import { formatDuration } from '../lib/durations.ts';
import { formatDateTime } from '../shared/format.ts';
import { requestSelectors, useRequestsStore } from '../store/requests.ts';

/** The person's own access requests, pending ones first and marked, with who decided. */
export function RequestsView() {
  const mine = useRequestsStore(requestSelectors.mine);
  const status = useRequestsStore(requestSelectors.mineStatus);
  const error = useRequestsStore(requestSelectors.mineError);
  useEffect(() => {
    void useRequestsStore.getState().loadMine();
  }, []);
  const ordered = [...mine.filter((r) => r.status === 'pending'), ...mine.filter((r) => r.status !== 'pending')];
  return (
    <section aria-labelledby="requests-title">
      <header className="view-header">
        <h2 id="requests-title">My requests</h2>
        <button type="button" onClick={() => void useRequestsStore.getState().loadMine()}>
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
      {status === 'loaded' && mine.length === 0 && <p className="empty">You have not asked for access that needs approval.</p>}
      <ul className="request-list" aria-label="My access requests">
        {ordered.map((r) => (
          <MyRequest key={r.id} r={r} />
        ))}
      </ul>
    </section>
  );
}

function MyRequest({ r }: { r: AccessRequestInfo }) {
  const approvals = r.approvals.filter((a) => a.decision === 'approve' || a.decision === 'approved');
  const denial = r.approvals.find((a) => a.decision === 'deny' || a.decision === 'denied');
  return (
    <li
      className={r.status === 'pending' ? 'card request pending' : 'card request'}
      aria-label={`Request for ${r.account.name} on ${r.resource.name}, ${r.status}`}
    >
      <div className="request-head">
        <strong>
          {r.resource.name} / {r.account.name}
        </strong>
        <span className={`tag status-${r.status}`}>{r.status === 'pending' ? 'Pending' : r.status}</span>
      </div>
      <p className="reason">{r.reason}</p>
      <p className="muted small">
        {formatDuration(r.durationSeconds)} · {approvals.length} of {r.requiredApprovals} approval{r.requiredApprovals === 1 ? '' : 's'}
        {r.createdAt ? ` · asked ${formatDateTime(r.createdAt)}` : ''}
        {approvals.length > 0 ? ` · approved by ${approvals.map((a) => a.email).join(', ')}` : ''}
        {denial ? ` · denied by ${denial.email}${denial.comment ? `: “${denial.comment}”` : ''}` : ''}
        {r.status === 'approved' && r.windowEndsAt ? ` · start it before ${formatDateTime(r.windowEndsAt)}` : ''}
      </p>
    </li>
  );
}
