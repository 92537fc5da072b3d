/** What the API shows of users, invitations, groups, policies and access requests. */
import type { AccessRequest } from '../store/access-requests.ts';
import type { Group } from '../store/groups.ts';
import type { Invitation } from '../store/invitations.ts';
import type { ApprovalRule, Policy } from '../store/policies.ts';
import type { User } from '../store/users.ts';

export function adminUserDto(user: User, totp: boolean) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    isAdmin: user.isAdmin,
    disabled: user.disabled,
    mfa: { totp },
    createdAt: user.createdAt.toISOString(),
  };
}

export function invitationDto(invitation: Invitation) {
  return { id: invitation.id, email: invitation.email, projectId: invitation.projectId, role: invitation.role, expiresAt: invitation.expiresAt.toISOString() };
}

export function groupDto(group: Group) {
  return { id: group.id, projectId: group.projectId, name: group.name, members: group.members, createdAt: group.createdAt.toISOString() };
}

export function policyDto(policy: Policy) {
  return {
    id: policy.id,
    projectId: policy.projectId,
    name: policy.name,
    users: policy.userIds,
    groups: policy.groupIds,
    accounts: policy.accountIds,
    maxDurationSeconds: policy.maxDurationSeconds,
    createdAt: policy.createdAt.toISOString(),
  };
}

export function approvalRuleDto(rule: ApprovalRule | undefined) {
  return rule ? { approverUsers: rule.approverUserIds, approverGroups: rule.approverGroupIds, requiredApprovals: rule.requiredApprovals } : null;
}

export function accessRequestDto(request: AccessRequest) {
  return {
    id: request.id,
    projectId: request.projectId,
    userId: request.userId,
    userEmail: request.userEmail,
    resource: { id: request.resourceId, name: request.resourceName },
    account: { id: request.accountId, name: request.accountName },
    durationSeconds: request.durationSeconds,
    reason: request.reason,
    status: request.status,
    approvals: request.approvals,
    requiredApprovals: request.requiredApprovals,
    createdAt: request.createdAt.toISOString(),
    ...(request.approvedAt && { approvedAt: request.approvedAt.toISOString() }),
    ...(request.windowEndsAt && { windowEndsAt: request.windowEndsAt.toISOString() }),
  };
}
