/**
 * The access gate (issue 8 item 4): the one state machine between "start access" and a running
 * session, driven by the CLI (`db access`) and the desktop app (`access.begin`) alike. It answers
 * the server's refusals in order: MFA_REQUIRED asks the person for a second factor,
 * APPROVAL_REQUIRED finds an open access request for the account (approved with an open window,
 * or pending) or files one with a reason, then waits for the decision. Every step is reported
 * through `onProgress`; what a person must give comes through the `GateAsker`. No UI here.
 */
import { ErrorCodes, GatehouseError, serializeError, type SerializedError } from '../../../proxy-core/src/errors.ts';
import { hasCode, type ApiError } from '../api/api-errors.ts';
import type { ApiClient } from '../api/api-client.ts';
import type { AccessRequestInfo, MfaMethod, MfaProof } from '../api/types.ts';
import { awaitDecision } from './await-decision.ts';
import type { BackoffOptions } from './backoff.ts';
import type { AccessRequest, AccessStatus } from './types.ts';

/**
 * One step of the gate, over the shapes its driver carries: the core's own types here
 * (`GateStep`), the IPC contract's for the renderer (main/ipc/contract.ts). The renderer only
 * shows a step and answers `mfa` and `reason` (with `access.answer`); the CLI prompts.
 */
export type GateStepOf<Session, Request, Failure> =
  | { step: 'starting' }
  /**
   * A fresh second factor is needed; `invalid` is the server's word on the last code. Answer
   * with the code (email: ask the server to send one first).
   */
  | { step: 'mfa'; methods: MfaMethod[]; invalid?: string }
  /** Approval is needed and no request is open: answer with a reason to file one. */
  | { step: 'reason'; requiredApprovals?: number }
  | { step: 'waiting'; request: Request; approvals: number; filed: boolean }
  | { step: 'approved'; request: Request; by: string[] }
  | { step: 'started'; session: Session }
  | { step: 'refused'; request: Request; message: string }
  | { step: 'failed'; error: Failure }
  | { step: 'cancelled' };

/** How a run of the gate ends (a failure rejects with the error instead). */
export type GateResultOf<Session, Request> =
  { outcome: 'started'; session: Session } | { outcome: 'refused'; request: Request; message: string } | { outcome: 'cancelled' };

export type GateStep = GateStepOf<AccessStatus, AccessRequestInfo, SerializedError>;
export type GateResult = GateResultOf<AccessStatus, AccessRequestInfo>;

/** A second factor from the person. `final`: a code given up front (a flag) — not asked again when wrong. */
export type GateMfaAnswer = MfaProof & { final?: boolean };

/** What only the person can give. Rejecting ends the gate with that error (or cancelled, once aborted). */
export interface GateAsker {
  mfa(ask: { methods: MfaMethod[]; invalid?: string }): Promise<GateMfaAnswer>;
  reason(ask: { requiredApprovals?: number }): Promise<string>;
}

export interface GateDeps {
  api: Pick<ApiClient, 'listAccessRequests' | 'createAccessRequest' | 'getAccessRequest'>;
  start(req: AccessRequest): Promise<AccessStatus>;
}

export interface GateOptions {
  /** The reason for a request, when given up front (`--reason`, the dialog's field). */
  reason?: string;
  /** An approved request to use instead of looking for or filing one. */
  requestId?: string;
  /** Stops the gate: waiting for approval ends (the request stays open); the result is 'cancelled'. */
  signal?: AbortSignal;
  onProgress?: (step: GateStep) => void;
  /** Polling backoff while waiting for a decision. */
  backoff?: BackoffOptions;
}

const MAX_STEPS = 6;
const MFA_ATTEMPTS = 3;

export async function runAccessGate(deps: GateDeps, req: AccessRequest, asker: GateAsker, opts: GateOptions = {}): Promise<GateResult> {
  const progress = (step: GateStep) => opts.onProgress?.(step);
  progress({ step: 'starting' });
  try {
    const result = await walk(deps, req, asker, opts, progress);
    if (result.outcome === 'started') progress({ step: 'started', session: result.session });
    else if (result.outcome === 'refused') progress({ step: 'refused', request: result.request, message: result.message });
    return result;
  } catch (err) {
    if (opts.signal?.aborted) {
      progress({ step: 'cancelled' });
      return { outcome: 'cancelled' };
    }
    progress({ step: 'failed', error: serializeError(err) });
    throw err;
  }
}

async function walk(deps: GateDeps, req: AccessRequest, asker: GateAsker, opts: GateOptions, progress: (s: GateStep) => void): Promise<GateResult> {
  let mfa: GateMfaAnswer | undefined;
  let wrongCodes = 0;
  let methods: MfaMethod[] = [];
  let accessRequestId = opts.requestId;
  for (let step = 0; step < MAX_STEPS; step++) {
    throwIfCancelled(opts.signal);
    try {
      const session = await deps.start({ ...req, ...(mfa && { mfa: { method: mfa.method, code: mfa.code } }), ...(accessRequestId && { accessRequestId }) });
      return { outcome: 'started', session };
    } catch (e) {
      const invalid = hasCode(e, ErrorCodes.MFA_INVALID);
      if (hasCode(e, ErrorCodes.MFA_REQUIRED) || (invalid && mfa && !mfa.final)) {
        if (invalid && ++wrongCodes >= MFA_ATTEMPTS) throw e;
        if (!invalid && mfa?.final) throw e; // a code given up front was not enough; asking again would loop
        methods = (e as ApiError).details?.challenge?.methods ?? methods;
        const ask = { methods, ...(invalid && { invalid: (e as Error).message }) };
        // asked first, then told: an answer that comes back on the progress event finds the question open
        const answer = asker.mfa(ask);
        progress({ step: 'mfa', ...ask });
        mfa = await answer;
        continue;
      }
      if (hasCode(e, ErrorCodes.APPROVAL_REQUIRED) && !accessRequestId) {
        const decided = await obtainApproval(deps, req, asker, opts, progress, (e as ApiError).details?.approval?.requiredApprovals);
        if (decided.status !== 'approved') return { outcome: 'refused', request: decided, message: refusalMessage(decided) };
        accessRequestId = decided.id;
        continue;
      }
      throw e;
    }
  }
  throw new GatehouseError(ErrorCodes.FORBIDDEN, 'the server kept refusing the session; see the steps above');
}

async function obtainApproval(
  deps: GateDeps,
  req: AccessRequest,
  asker: GateAsker,
  opts: GateOptions,
  progress: (s: GateStep) => void,
  requiredApprovals: number | undefined,
): Promise<AccessRequestInfo> {
  let request = await findOpenRequest(deps.api, req);
  if (request?.status === 'approved') {
    progress({ step: 'approved', request, by: decidedBy(request, 'approve') });
    return request;
  }
  let filed = false;
  if (!request) {
    let reason = opts.reason?.trim();
    if (!reason) {
      const ask = requiredApprovals !== undefined ? { requiredApprovals } : {};
      const answer = asker.reason(ask);
      progress({ step: 'reason', ...ask });
      reason = (await answer).trim();
    }
    if (!reason) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'a reason is required to request approval');
    request = await deps.api.createAccessRequest({ projectId: req.projectId, resource: req.resource, account: req.account, duration: req.duration, reason });
    filed = true;
  }
  const waiting = (r: AccessRequestInfo) => progress({ step: 'waiting', request: r, approvals: decidedBy(r, 'approve').length, filed });
  waiting(request);
  const decided = await awaitDecision(deps.api, request.id, {
    signal: opts.signal,
    onUpdate: (r) => {
      if (r.status === 'pending') waiting(r);
    },
    ...(opts.backoff && { backoff: opts.backoff }),
  });
  if (decided.status === 'approved') progress({ step: 'approved', request: decided, by: decidedBy(decided, 'approve') });
  return decided;
}

/** An approved request with an open window, or a pending one, for the same account. */
export async function findOpenRequest(api: GateDeps['api'], req: AccessRequest): Promise<AccessRequestInfo | undefined> {
  let mine: AccessRequestInfo[];
  try {
    mine = await api.listAccessRequests({ projectId: req.projectId, mine: true });
  } catch {
    return undefined; // listing is a convenience; filing a new request still works
  }
  const same = (r: AccessRequestInfo) =>
    (r.account.name === req.account || r.account.id === req.account) && (r.resource.name === req.resource || r.resource.id === req.resource);
  const now = Date.now();
  return (
    mine.find((r) => same(r) && r.status === 'approved' && r.windowEndsAt && Date.parse(r.windowEndsAt) > now + 5_000) ??
    mine.find((r) => same(r) && r.status === 'pending')
  );
}

/** Who approved (or denied) a request, by email. */
export function decidedBy(r: AccessRequestInfo, kind: 'approve' | 'deny'): string[] {
  return r.approvals.filter((a) => isDecision(a.decision, kind)).map((a) => a.email);
}

/** The denial or expiry in words: who denied it and their comment. */
export function refusalMessage(r: AccessRequestInfo): string {
  if (r.status === 'expired') return `access request ${r.id} expired without a decision`;
  const denial = r.approvals.find((a) => isDecision(a.decision, 'deny'));
  const comment = denial?.comment ? `: "${denial.comment}"` : ' (no comment)';
  return `access request ${r.id} was denied by ${denial?.email ?? 'an approver'}${comment}`;
}

function isDecision(decision: string, kind: 'approve' | 'deny'): boolean {
  return kind === 'approve' ? decision === 'approve' || decision === 'approved' : decision === 'deny' || decision === 'denied';
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GatehouseError(ErrorCodes.TIMEOUT, 'stopped');
}
