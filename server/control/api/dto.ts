/** What the API shows of stored records. Nothing here ever carries a password or key. */
import type { Account, AccountWithResource } from '../store/accounts.ts';
import type { Gateway } from '../store/gateways.ts';
import type { Project } from '../store/projects.ts';
import type { Resource } from '../store/resources.ts';
import type { SessionRecord } from '../store/sessions.ts';
import type { User } from '../store/users.ts';

export function userDto(user: User) {
  return { id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin };
}

export function projectDto(project: Project) {
  return { id: project.id, name: project.name, createdAt: project.createdAt.toISOString() };
}

export function gatewayDto(gateway: Gateway, connected: boolean) {
  return {
    id: gateway.id,
    name: gateway.name,
    projectId: gateway.projectId,
    enrolled: gateway.enrolledAt !== null,
    connected,
    lastSeenAt: gateway.lastSeenAt?.toISOString() ?? null,
    createdAt: gateway.createdAt.toISOString(),
  };
}

export function resourceDto(resource: Resource) {
  return {
    id: resource.id,
    projectId: resource.projectId,
    gatewayId: resource.gatewayId,
    name: resource.name,
    host: resource.host,
    port: resource.port,
    database: resource.database,
    ssl: resource.ssl,
    allowMd5: resource.allowMd5,
    allowCleartext: resource.allowCleartext,
    createdAt: resource.createdAt.toISOString(),
    updatedAt: resource.updatedAt.toISOString(),
  };
}

/** An account for admins: the password only as `hasPassword`. */
export function accountDto(account: Account) {
  return {
    id: account.id,
    resourceId: account.resourceId,
    name: account.name,
    description: account.description,
    username: account.username,
    requireMfa: account.requireMfa,
    hasPassword: account.passwordSealed !== null,
    /** The resource's target changed since the password was stored: enter it again (issue 10 item 2). */
    passwordNeedsReentry: account.passwordSealed === null,
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
  };
}

/** An account as a user who may access it sees it. */
export function accessibleAccountDto(account: AccountWithResource) {
  return {
    id: account.id,
    name: account.name,
    description: account.description,
    username: account.username,
    requireMfa: account.requireMfa,
    resource: { id: account.resource.id, name: account.resource.name, database: account.resource.database },
  };
}

export function sessionDto(session: SessionRecord) {
  return {
    id: session.id,
    projectId: session.projectId,
    userId: session.userId,
    userEmail: session.userEmail,
    resource: { id: session.resourceId, name: session.resourceName, database: session.database },
    account: { id: session.accountId, name: session.accountName, username: session.username },
    gatewayId: session.gatewayId,
    kind: session.kind,
    status: session.status,
    createdAt: session.createdAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    ...(session.endedAt && { endedAt: session.endedAt.toISOString() }),
  };
}
