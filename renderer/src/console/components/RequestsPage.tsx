/** Access requests: pending ones to approve or deny with a comment, and the history. */
import { useState } from 'react';
import { api } from '../api.ts';
import { uiError, useSession, type UiError } from '../store/session.ts';
import { ErrorText, StatusTag, usePolling, when } from './ui.tsx';

interface Request {
  id: string;
  userId: string;
  userEmail: string;
  resource: { name: string };
  account: { name: string };
  durationSeconds: number;
  reason: string;
  status: string;
  approvals: { email: string; decision: string; comment: string | null }[];
  requiredApprovals: number;
  createdAt: string;
}

export function RequestsPage() {
  const projectId = useSession((s) => s.projectId)!;
  const meId = useSession((s) => s.me?.id);
  const [requests, setRequests] = useState<Request[]>([]);
  const [comments, setComments] = useState<Record<string, string>>({});
  const [error, setError] = useState<UiError>();
  const load = async () => {
    try {
      setRequests((await api<{ requests: Request[] }>('GET', `/access-requests?projectId=${projectId}&limit=200`)).requests);
    } catch (err) {
      setError(uiError(err));
    }
  };
  usePolling(load, 3000, [projectId]);
  const decide = (r: Request, decision: 'approve' | 'deny') =>
    void api('POST', `/access-requests/${r.id}/${decision}`, { comment: comments[r.id]?.trim() || undefined }).then(load, (err) => setError(uiError(err)));
  const pending = requests.filter((r) => r.status === 'pending');
  const done = requests.filter((r) => r.status !== 'pending');

  return (
    <section aria-labelledby="requests-title">
      <div className="view-header">
        <h1 id="requests-title">Access requests</h1>
      </div>
      <ErrorText error={error} />
      <h2>Pending</h2>
      {pending.length === 0 && <p className="empty">Nothing waiting for a decision.</p>}
      <ul className="request-list">
        {pending.map((r) => (
          <li key={r.id} className="card request">
            <div className="request-head">
              <strong>
                {r.userEmail} → {r.resource.name} / {r.account.name}
              </strong>
              <span className="muted small">
                {Math.round(r.durationSeconds / 60)} min · {when(r.createdAt)}
              </span>
            </div>
            <p className="reason">{r.reason}</p>
            <p className="muted small">
              {r.approvals.length} of {r.requiredApprovals} approval{r.requiredApprovals === 1 ? '' : 's'}
            </p>
            {r.userId !== meId && (
              <>
                <label>
                  Comment
                  <input className="comment" value={comments[r.id] ?? ''} onChange={(e) => setComments((c) => ({ ...c, [r.id]: e.target.value }))} />
                </label>
                <div className="actions left">
                  <button type="button" className="primary" onClick={() => decide(r, 'approve')}>
                    Approve
                  </button>
                  <button type="button" className="danger" onClick={() => decide(r, 'deny')}>
                    Deny
                  </button>
                </div>
              </>
            )}
          </li>
        ))}
      </ul>
      <h2 className="section">History</h2>
      {done.length === 0 ? (
        <p className="empty">No decided requests yet.</p>
      ) : (
        <table className="grid" aria-label="Decided requests">
          <thead>
            <tr>
              <th scope="col">Requester</th>
              <th scope="col">Account</th>
              <th scope="col">Reason</th>
              <th scope="col">Status</th>
              <th scope="col">Decisions</th>
              <th scope="col">Filed</th>
            </tr>
          </thead>
          <tbody>
            {done.map((r) => (
              <tr key={r.id}>
                <td>{r.userEmail}</td>
                <td>
                  {r.resource.name} / {r.account.name}
                </td>
                <td>{r.reason}</td>
                <td>
                  <StatusTag status={r.status} />
                </td>
                <td>{r.approvals.map((a) => `${a.email}: ${a.decision}${a.comment ? ` (“${a.comment}”)` : ''}`).join('; ')}</td>
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
