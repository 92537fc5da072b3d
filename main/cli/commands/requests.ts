import type { AccessRequestInfo, AccessRequestStatus } from '../../core/api/types.ts';
import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { formatSeconds, localTime, oneLine, table } from '../format.ts';
import { out, type CliIo } from '../io.ts';
import { UsageError } from '../usage-error.ts';

const STATUSES: readonly (AccessRequestStatus | 'all')[] = ['pending', 'approved', 'denied', 'expired', 'all'];

/** `gatehouse requests list`: what the caller may decide (pending by default), or their own with --mine. */
export async function requestsList(argv: string[], io: CliIo): Promise<number> {
  const command = 'requests list';
  const { values } = parse(command, argv, {
    ...COMMON_OPTIONS,
    'project-id': { type: 'string' },
    status: { type: 'string', default: 'pending' },
    mine: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const status = values.status as AccessRequestStatus | 'all';
  if (!STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`, command);
  const ctx = await openContext(io, command, values.domain);
  try {
    const requests = await ctx.api.listAccessRequests({
      projectId: values['project-id'],
      status: status === 'all' ? undefined : status,
      mine: values.mine === true ? true : undefined,
    });
    if (values.json) {
      for (const r of requests) out(io, JSON.stringify(r));
      return 0;
    }
    if (requests.length === 0) {
      out(io, status === 'pending' ? 'No pending access requests.' : 'No access requests.');
      return 0;
    }
    out(
      io,
      table(
        ['ID', 'REQUESTER', 'RESOURCE', 'ACCOUNT', 'DURATION', 'APPROVALS', 'STATUS', 'REASON'],
        requests.map((r) => [
          r.id,
          r.userEmail,
          r.resource.name,
          r.account.name,
          formatSeconds(r.durationSeconds),
          `${approvalsOf(r)}/${r.requiredApprovals}`,
          r.status,
          oneLine(r.reason, 60),
        ]),
      ),
    );
    return 0;
  } finally {
    await ctx.api.close();
  }
}

export function requestsApprove(argv: string[], io: CliIo): Promise<number> {
  return decide('approve', argv, io);
}

export function requestsDeny(argv: string[], io: CliIo): Promise<number> {
  return decide('deny', argv, io);
}

async function decide(kind: 'approve' | 'deny', argv: string[], io: CliIo): Promise<number> {
  const command = `requests ${kind}`;
  const { values, positionals } = parse(command, argv, { ...COMMON_OPTIONS, comment: { type: 'string' }, json: { type: 'boolean' } }, true);
  const id = positionals[0];
  if (!id) throw new UsageError('a request id is required', command);
  if (positionals.length > 1) throw new UsageError(`one request id at a time (got ${positionals.length})`, command);
  const ctx = await openContext(io, command, values.domain);
  try {
    const r = kind === 'approve' ? await ctx.api.approveAccessRequest(id, values.comment) : await ctx.api.denyAccessRequest(id, values.comment);
    if (values.json) {
      out(io, JSON.stringify(r));
      return 0;
    }
    out(io, describe(r));
    return 0;
  } finally {
    await ctx.api.close();
  }
}

function describe(r: AccessRequestInfo): string {
  const who = `${r.userEmail} → ${r.account.name} on ${r.resource.name}`;
  switch (r.status) {
    case 'approved':
      return `Request ${r.id} approved (${who}); access window open until ${localTime(r.windowEndsAt)}.`;
    case 'denied':
      return `Request ${r.id} denied (${who}).`;
    case 'pending':
      return `Request ${r.id} is still pending (${who}): ${approvalsOf(r)} of ${r.requiredApprovals} approvals.`;
    default:
      return `Request ${r.id} is ${r.status} (${who}).`;
  }
}

function approvalsOf(r: AccessRequestInfo): number {
  return r.approvals.filter((a) => a.decision === 'approve' || a.decision === 'approved').length;
}
