/**
 * `gatehouse db access` meets the access rules: an MFA challenge is answered (prompt or
 * --mfa-code), an account that needs approval gets a request filed (or an open one reused)
 * and the command waits for the decision, then the session starts with it.
 */
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { awaitDecision } from '../core/access/await-decision.ts';
import type { AccessRequest, AccessStatus } from '../core/access/types.ts';
import { hasCode, type ApiError } from '../core/api/api-errors.ts';
import type { ApiClient } from '../core/api/api-client.ts';
import type { AccessRequestInfo, MfaMethod, MfaProof } from '../core/api/types.ts';
import { localTime } from './format.ts';
import { err, type CliIo } from './io.ts';
import { obtainMfaProof } from './mfa.ts';
import { prompt } from './prompt.ts';
import { UsageError } from './usage-error.ts';

const COMMAND = 'db access';
const MAX_STEPS = 6;
const PROMPT_ATTEMPTS = 3;

export interface GateOptions {
  mfaCode?: string;
  mfaMethod?: MfaMethod;
  reason?: string;
  /** Use this approved request instead of looking for or filing one. */
  requestId?: string;
  /** Stops waiting for approval (Ctrl+C). */
  signal?: AbortSignal;
}

/** Thrown when an access request ends without approval: the CLI exits 1 with the message. */
export class RequestNotApprovedError extends GatehouseError {
  readonly request: AccessRequestInfo;
  constructor(request: AccessRequestInfo, message: string) {
    super(ErrorCodes.FORBIDDEN, message);
    this.request = request;
  }
}

/** Starts the session through `start`, answering MFA and approval refusals on the way. */
export async function startThroughGate(
  io: CliIo,
  api: ApiClient,
  req: AccessRequest,
  opts: GateOptions,
  start: (req: AccessRequest) => Promise<AccessStatus>,
): Promise<AccessStatus> {
  let mfa: (MfaProof & { prompted: boolean }) | undefined;
  let mfaAttempts = 0;
  let flagCodeUsed = false;
  let accessRequestId = opts.requestId;
  let emailSent = false;
  for (let step = 0; step < MAX_STEPS; step++) {
    try {
      return await start({ ...req, ...(mfa ? { mfa: { method: mfa.method, code: mfa.code } } : {}), ...(accessRequestId ? { accessRequestId } : {}) });
    } catch (e) {
      const invalid = hasCode(e, ErrorCodes.MFA_INVALID);
      if (hasCode(e, ErrorCodes.MFA_REQUIRED) || (invalid && mfa?.prompted)) {
        if (invalid) {
          if (++mfaAttempts >= PROMPT_ATTEMPTS) throw e;
          err(io, `${(e as Error).message}. Try again.`);
        }
        if (flagCodeUsed && !invalid) throw e; // the flag's code was not enough; asking again would loop
        const methods = (e as ApiError).details?.challenge?.methods ?? [];
        if (!invalid && !mfa && opts.mfaCode === undefined) err(io, `${req.account} requires a second factor for each session.`);
        mfa = await obtainMfaProof(io, {
          command: COMMAND, methods, flagMethod: opts.mfaMethod,
          flagCode: flagCodeUsed ? undefined : opts.mfaCode,
          sendEmail: async () => {
            if (emailSent) return; // one mail per command; the code stays valid for 10 minutes
            await api.sendEmailCode();
            emailSent = true;
          },
        });
        if (!mfa.prompted) flagCodeUsed = true;
        continue;
      }
      if (hasCode(e, ErrorCodes.APPROVAL_REQUIRED) && !accessRequestId) {
        const required = (e as ApiError).details?.approval?.requiredApprovals;
        const approved = await obtainApproval(io, api, req, opts, required);
        accessRequestId = approved.id;
        continue;
      }
      throw e;
    }
  }
  throw new GatehouseError(ErrorCodes.FORBIDDEN, 'the server kept refusing the session; see the messages above');
}

async function obtainApproval(
  io: CliIo, api: ApiClient, req: AccessRequest, opts: GateOptions, required: number | undefined,
): Promise<AccessRequestInfo> {
  let request = await findOpenRequest(api, req);
  if (request?.status === 'approved') {
    err(io, `Using approved access request ${request.id} (window open until ${localTime(request.windowEndsAt)}).`);
    return request;
  }
  if (request) {
    err(io, `You already asked for this access: request ${request.id} is pending.`);
  } else {
    let reason = opts.reason?.trim();
    if (!reason) {
      if (!io.stdin.isTTY) {
        throw new UsageError(`${req.account} on ${req.resource} requires approval: pass --reason "why you need access" to file a request`, COMMAND);
      }
      err(io, `${req.account} on ${req.resource} requires approval${required ? ` (${required} approver${required === 1 ? '' : 's'})` : ''}.`);
      reason = (await prompt(io, 'Reason for the request (approvers see it): ')).trim();
      if (!reason) throw new UsageError('a reason is required to request approval', COMMAND);
    }
    request = await api.createAccessRequest({ projectId: req.projectId, resource: req.resource, account: req.account, duration: req.duration, reason });
    err(io, `Access request ${request.id} filed (needs ${request.requiredApprovals} approval${request.requiredApprovals === 1 ? '' : 's'}).`);
  }
  const decided = await waitVisibly(io, api, request, opts.signal);
  if (decided.status === 'approved') {
    err(io, `Approved by ${approvers(decided, 'approve')}.`);
    return decided;
  }
  if (decided.status === 'denied') {
    const denial = decided.approvals.find((a) => isDecision(a.decision, 'deny'));
    const comment = denial?.comment ? `: "${denial.comment}"` : ' (no comment)';
    throw new RequestNotApprovedError(decided, `access request ${decided.id} was denied by ${denial?.email ?? 'an approver'}${comment}`);
  }
  throw new RequestNotApprovedError(decided, `access request ${decided.id} expired without a decision`);
}

/** An approved request with an open window, or a pending one, for the same account. */
async function findOpenRequest(api: ApiClient, req: AccessRequest): Promise<AccessRequestInfo | undefined> {
  let mine: AccessRequestInfo[];
  try {
    mine = await api.listAccessRequests({ projectId: req.projectId, mine: true });
  } catch {
    return undefined; // listing is a convenience; filing a new request still works
  }
  const same = (r: AccessRequestInfo) =>
    (r.account.name === req.account || r.account.id === req.account) && (r.resource.name === req.resource || r.resource.id === req.resource);
  const now = Date.now();
  return mine.find((r) => same(r) && r.status === 'approved' && r.windowEndsAt && Date.parse(r.windowEndsAt) > now + 5_000)
    ?? mine.find((r) => same(r) && r.status === 'pending');
}

async function waitVisibly(io: CliIo, api: ApiClient, request: AccessRequestInfo, signal?: AbortSignal): Promise<AccessRequestInfo> {
  const tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  const started = Date.now();
  const line = (r: AccessRequestInfo) =>
    `Waiting for approval… ${countApprovals(r)} of ${r.requiredApprovals} (request ${r.id}; Ctrl+C stops waiting, the request stays open)`;
  let last = '';
  const show = (r: AccessRequestInfo) => {
    const text = line(r);
    if (tty) io.stderr.write(`\r\x1b[2K${text} ${elapsed(Date.now() - started)}`);
    else if (text !== last) err(io, text);
    last = text;
  };
  let current = request;
  show(request);
  const ticker = tty ? setInterval(() => show(current), 1_000) : undefined;
  try {
    return await awaitDecision(api, request.id, { signal, onUpdate: (r) => { current = r; show(r); } });
  } finally {
    if (ticker) clearInterval(ticker);
    if (tty) io.stderr.write('\n');
  }
}

function countApprovals(r: AccessRequestInfo): number {
  return r.approvals.filter((a) => isDecision(a.decision, 'approve')).length;
}

function approvers(r: AccessRequestInfo, kind: 'approve' | 'deny'): string {
  return r.approvals.filter((a) => isDecision(a.decision, kind)).map((a) => a.email).join(', ') || 'an approver';
}

function isDecision(decision: string, kind: 'approve' | 'deny'): boolean {
  return kind === 'approve' ? decision === 'approve' || decision === 'approved' : decision === 'deny' || decision === 'denied';
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}
