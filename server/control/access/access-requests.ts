/**
 * Access requests: a member asks for an account that requires approval, approvers decide,
 * enough approvals open a window in which sessions on that account may start.
 * Deciders are the account's approvers (users and groups) and the project's admins; never
 * the requester.
 */
import { ErrorCodes, GatehouseError, InvalidInputError, notFound } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { Audit } from '../audit.ts';
import type { Permissions } from '../auth/permissions.ts';
import { durationSeconds } from '../duration.ts';
import type { AccountWithResource } from '../store/accounts.ts';
import type { AccessRequest, AccessRequestStatus } from '../store/access-requests.ts';
import type { ApprovalRule } from '../store/policies.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';
import type { AccessEvaluator } from './access-evaluator.ts';

const log = createLogger('access-requests');

/** Pending requests expire after this long. */
export const PENDING_TTL_MS = 24 * 3600 * 1000;

export interface FileRequestInput {
  projectId: string;
  resource: string;
  account: string;
  duration: string | number;
  reason: string;
}

export class AccessRequestService {
  readonly #store: Store;
  readonly #permissions: Permissions;
  readonly #access: AccessEvaluator;
  readonly #audit: Audit;
  readonly #maxSessionSeconds: number;

  constructor(options: { store: Store; permissions: Permissions; access: AccessEvaluator; audit: Audit; maxSessionSeconds: number }) {
    this.#store = options.store;
    this.#permissions = options.permissions;
    this.#access = options.access;
    this.#audit = options.audit;
    this.#maxSessionSeconds = options.maxSessionSeconds;
  }

  async file(user: User, input: FileRequestInput, sourceAddress: string | null): Promise<AccessRequest> {
    const seconds = durationSeconds(input.duration, this.#maxSessionSeconds);
    const project = await this.#store.projects.findById(input.projectId);
    if (!project || !(await this.#permissions.can(user, project.id, 'read'))) throw notFound('project');
    await this.#permissions.require(user, project.id, 'access');
    const account = await this.#findAccount(project.id, input.resource, input.account);
    const grant = await this.#access.grantFor(user, project.id, account, seconds);
    if (!grant.approval) throw new InvalidInputError(`account "${account.name}" does not require approval: start a session directly`, 'account');
    const request = await this.#store.accessRequests.create(
      {
        projectId: project.id,
        userId: user.id,
        userEmail: user.email,
        resourceId: account.resource.id,
        resourceName: account.resource.name,
        accountId: account.id,
        accountName: account.name,
        durationSeconds: seconds,
        reason: input.reason,
        requiredApprovals: grant.approval.requiredApprovals,
      },
      new Date(),
    );
    await this.#audit({
      actor: user,
      action: 'access_request.create',
      targetType: 'access_request',
      targetId: request.id,
      sourceAddress,
      details: { projectId: project.id, resource: account.resource.name, account: account.name, durationSeconds: seconds, reason: input.reason },
    });
    return request;
  }

  /** A request the caller may see (requester, deciders, project auditors), with its current status. */
  async get(user: User, id: string): Promise<AccessRequest> {
    const request = await this.#store.accessRequests.findById(id);
    if (!request || !(await this.#canSee(user, request))) throw notFound('access request');
    return present(request, new Date());
  }

  async list(user: User, filter: { projectId?: string; status?: AccessRequestStatus; mine: boolean; limit: number }): Promise<AccessRequest[]> {
    const now = new Date();
    const mine = await this.#store.accessRequests.list({ userId: user.id, limit: filter.limit });
    const others: AccessRequest[] = [];
    if (!filter.mine) {
      const projectIds = await this.#permissions.projectsWhere(user, 'read');
      const candidates = await this.#store.accessRequests.list({ projectIds, limit: 500 });
      for (const request of candidates) if (request.userId !== user.id && (await this.#canSee(user, request))) others.push(request);
    }
    const byId = new Map([...mine, ...others].map((r) => [r.id, present(r, now)]));
    return [...byId.values()]
      .filter((r) => filter.projectId === undefined || r.projectId === filter.projectId)
      .filter((r) => filter.status === undefined || r.status === filter.status)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, filter.limit);
  }

  async decide(user: User, id: string, decision: 'approve' | 'deny', comment: string, sourceAddress: string | null): Promise<AccessRequest> {
    const current = await this.get(user, id);
    if (current.userId === user.id)
      throw new GatehouseError(ErrorCodes.SELF_APPROVAL, 'you cannot approve or deny your own access request; another approver must decide');
    if (!(await this.#canDecide(user, current))) throw new GatehouseError(ErrorCodes.FORBIDDEN, `you are not an approver of account "${current.accountName}"`);
    if (current.status !== 'pending') throw notPending(current);
    if (current.approvals.some((a) => a.userId === user.id)) throw new GatehouseError(ErrorCodes.CONFLICT, 'you have already decided on this request');
    const now = new Date();
    const updated = await this.#store.accessRequests.decide(id, (r) => {
      if (now.getTime() - r.createdAt.getTime() >= PENDING_TTL_MS) return { status: 'expired', approvals: r.approvals, approvedAt: null, windowEndsAt: null };
      const approvals = [...r.approvals, { userId: user.id, email: user.email, decision, comment, at: now.toISOString() }];
      if (decision === 'deny') return { status: 'denied', approvals, approvedAt: null, windowEndsAt: null };
      const count = approvals.filter((a) => a.decision === 'approve').length;
      if (count < r.requiredApprovals) return { status: 'pending', approvals, approvedAt: null, windowEndsAt: null };
      return { status: 'approved', approvals, approvedAt: now, windowEndsAt: new Date(now.getTime() + r.durationSeconds * 1000) };
    });
    if (!updated || updated.status === 'expired') throw notPending(updated ?? (await this.get(user, id)));
    await this.#audit({
      actor: user,
      action: decision === 'approve' ? 'access_request.approve' : 'access_request.deny',
      targetType: 'access_request',
      targetId: id,
      sourceAddress,
      details: { projectId: updated.projectId, requester: updated.userEmail, account: updated.accountName, status: updated.status, comment },
    });
    return updated;
  }

  /**
   * For a session on an account that requires approval: the end of the window of the caller's
   * approved request, or APPROVAL_REQUIRED saying what is missing.
   */
  async windowFor(
    user: User,
    account: AccountWithResource,
    rule: ApprovalRule,
    accessRequestId: string | undefined,
  ): Promise<{ request: AccessRequest; windowEndsAt: Date }> {
    const approval = { requiredApprovals: rule.requiredApprovals };
    if (accessRequestId === undefined) {
      throw new GatehouseError(
        ErrorCodes.APPROVAL_REQUIRED,
        `account "${account.name}" requires approval: file an access request (reason and duration) and start the session with its id once it is approved`,
        { details: { approval } },
      );
    }
    const stored = await this.#store.accessRequests.findById(accessRequestId);
    if (!stored || stored.userId !== user.id) throw notFound('access request');
    if (stored.accountId !== account.id)
      throw new InvalidInputError(`access request ${stored.id} is for account "${stored.accountName}", not "${account.name}"`, 'accessRequestId');
    const request = present(stored, new Date());
    if (request.status === 'approved' && request.windowEndsAt) return { request, windowEndsAt: request.windowEndsAt };
    const why: Record<Exclude<AccessRequestStatus, 'approved'>, string> = {
      pending: `is still waiting for approval (${request.approvals.filter((a) => a.decision === 'approve').length} of ${request.requiredApprovals})`,
      denied: 'was denied; file a new request',
      expired: 'has expired; file a new request',
    };
    const status = request.status as Exclude<AccessRequestStatus, 'approved'>;
    throw new GatehouseError(ErrorCodes.APPROVAL_REQUIRED, `access request ${request.id} ${why[status]}`, {
      details: { approval: { ...approval, requestId: request.id, status } },
    });
  }

  /** Expires pending requests past 24 h and approved ones whose window closed. */
  async expireDue(): Promise<AccessRequest[]> {
    const now = new Date();
    const expired = await this.#store.accessRequests.expireDue(new Date(now.getTime() - PENDING_TTL_MS), now);
    for (const request of expired) {
      await this.#audit({
        actor: null,
        action: 'access_request.expire',
        targetType: 'access_request',
        targetId: request.id,
        sourceAddress: null,
        details: { projectId: request.projectId },
      });
    }
    if (expired.length > 0) log.info({ count: expired.length }, 'access requests expired');
    return expired;
  }

  async #findAccount(projectId: string, resourceRef: string, accountRef: string): Promise<AccountWithResource> {
    const resource = await this.#store.resources.findInProject(projectId, resourceRef);
    if (!resource) throw notFound(`resource "${resourceRef}"`);
    const account = await this.#store.accounts.findOnResource(resource.id, accountRef);
    const full = account && (await this.#store.accounts.findById(account.id));
    if (!full) throw notFound(`account "${accountRef}" on resource "${resource.name}"`);
    return full;
  }

  async #canDecide(user: User, request: AccessRequest): Promise<boolean> {
    if (request.userId === user.id) return false;
    if (await this.#permissions.can(user, request.projectId, 'manage')) return true;
    const rule = await this.#store.policies.approvalRule(request.accountId);
    if (!rule) return false;
    if (rule.approverUserIds.includes(user.id)) return true;
    const groups = await this.#store.groups.groupIdsOf(user.id, request.projectId);
    return groups.some((g) => rule.approverGroupIds.includes(g));
  }

  async #canSee(user: User, request: AccessRequest): Promise<boolean> {
    return request.userId === user.id || (await this.#permissions.can(user, request.projectId, 'audit')) || (await this.#canDecide(user, request));
  }
}

/** Pending past 24 h, or approved with its window closed, reads as expired before the sweep runs. */
export function present(request: AccessRequest, now: Date): AccessRequest {
  if (request.status === 'pending' && now.getTime() - request.createdAt.getTime() >= PENDING_TTL_MS) return { ...request, status: 'expired' };
  if (request.status === 'approved' && request.windowEndsAt && request.windowEndsAt.getTime() <= now.getTime()) return { ...request, status: 'expired' };
  return request;
}

function notPending(request: AccessRequest): GatehouseError {
  return new GatehouseError(ErrorCodes.REQUEST_NOT_PENDING, `access request ${request.id} is ${request.status}, no longer pending`);
}
