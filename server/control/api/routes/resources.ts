import { randomUUID } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { accountPasswordAad } from '../../store/accounts.ts';
import type { Resource } from '../../store/resources.ts';
import type { User } from '../../store/users.ts';
import { accessibleAccountDto, accountDto, resourceDto } from '../dto.ts';
import { InvalidInputError, notFound } from '../errors.ts';
import { created, ok, route, type AnyRoute } from '../route.ts';
import { createAccountBody, createResourceBody, updateAccountBody, updateResourceBody } from '../schemas.ts';
import type { Services } from '../services.ts';
import { approvalRuleDto } from '../access-dto.ts';
import { assertMayAllowWeakAuth, targetChanges, weakAuthChanges } from '../../resource-target-policy.ts';

export function resourceRoutes(s: Services): AnyRoute[] {
  /** Whether the gateway in front of a resource is linked (to any replica), for the Accounts list. */
  const gatewayHealth = async (resourceId: string): Promise<{ connected: boolean; lastSeenAt: string | null }> => {
    const resource = await s.store.resources.findById(resourceId);
    const gateway = resource && (await s.store.gateways.findById(resource.gatewayId));
    if (!gateway) return { connected: false, lastSeenAt: null };
    return { connected: gateway.connected || (await s.relay.isGatewayConnected(gateway.id)), lastSeenAt: gateway.lastSeenAt?.toISOString() ?? null };
  };
  /** A resource the user may `manage` (or `read`), else 404/403. */
  async function resourceFor(user: User, id: string, action: 'read' | 'manage'): Promise<Resource> {
    const resource = await s.store.resources.findById(id);
    if (!resource || !(await s.permissions.can(user, resource.projectId, 'read'))) throw notFound('resource');
    await s.permissions.require(user, resource.projectId, action);
    return resource;
  }

  async function checkGateway(projectId: string, gatewayId: string): Promise<void> {
    const gateway = await s.store.gateways.findById(gatewayId);
    if (!gateway || (gateway.projectId !== null && gateway.projectId !== projectId)) {
      throw new InvalidInputError('gatewayId: no such gateway in this project', 'gatewayId');
    }
  }

  async function accountFor(user: User, id: string) {
    const account = await s.store.accounts.findById(id);
    if (!account || !(await s.permissions.can(user, account.resource.projectId, 'read'))) throw notFound('account');
    await s.permissions.require(user, account.resource.projectId, 'manage');
    return account;
  }

  return [
    route({
      method: 'POST',
      path: '/api/v1/projects/:projectId/resources',
      body: createResourceBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        await s.permissions.require(user, params.projectId, 'manage');
        if (!(await s.store.projects.findById(params.projectId))) throw notFound('project');
        await checkGateway(params.projectId, body.gatewayId);
        assertMayAllowWeakAuth(user, body);
        const resource = await s.store.resources.create(params.projectId, body);
        await s.audit({
          actor: user,
          action: 'resource.create',
          targetType: 'resource',
          targetId: resource.id,
          sourceAddress,
          details: { name: resource.name, allowMd5: resource.allowMd5, allowCleartext: resource.allowCleartext },
        });
        return created({ resource: resourceDto(resource) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/projects/:projectId/resources',
      handler: async ({ user, params }) => {
        await s.permissions.require(user, params.projectId, 'read');
        return ok({ resources: (await s.store.resources.listByProject(params.projectId)).map(resourceDto) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/resources/:id',
      handler: async ({ user, params }) => ok({ resource: resourceDto(await resourceFor(user, params.id, 'read')) }),
    }),
    route({
      method: 'PATCH',
      path: '/api/v1/resources/:id',
      body: updateResourceBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const resource = await resourceFor(user, params.id, 'manage');
        if (body.gatewayId !== undefined) await checkGateway(resource.projectId, body.gatewayId);
        assertMayAllowWeakAuth(user, body, resource);
        const now = new Date();
        const moved = targetChanges(resource, body);
        // Forget the passwords before the target changes, so none ever reaches the new one.
        const cleared = moved.length > 0 ? await s.store.accounts.clearPasswordsOfResource(resource.id, now) : [];
        const updated = await s.store.resources.update(resource.id, body, now);
        if (!updated) throw notFound('resource');
        // Sessions were set up for the old target: they end with it (issue 10 item 7).
        const retargeted = (['gatewayId', 'host', 'port', 'database', 'ssl'] as const).filter(
          (f) => body[f] !== undefined && JSON.stringify(body[f]) !== JSON.stringify(resource[f]),
        );
        if (retargeted.length > 0)
          await s.sessions.revokeSessionsOf(user, { resourceId: resource.id }, `resource ${retargeted.join(', ')} changed`, sourceAddress);
        await s.audit({
          actor: user,
          action: 'resource.update',
          targetType: 'resource',
          targetId: resource.id,
          sourceAddress,
          details: { fields: Object.keys(body) },
        });
        const authChange = weakAuthChanges(resource, body);
        if (authChange) {
          await s.audit({
            actor: user,
            action: 'resource.auth_methods_change',
            targetType: 'resource',
            targetId: resource.id,
            projectId: resource.projectId,
            sourceAddress,
            details: authChange,
          });
        }
        if (cleared.length > 0) {
          await s.audit({
            actor: user,
            action: 'resource.passwords_clear',
            targetType: 'resource',
            targetId: resource.id,
            projectId: resource.projectId,
            sourceAddress,
            details: { changed: moved, accountIds: cleared },
          });
        }
        return ok({
          resource: resourceDto(updated),
          ...(cleared.length > 0 && {
            passwordsCleared: {
              accountIds: cleared,
              message: `the stored passwords of ${cleared.length} account(s) were cleared because the resource's ${moved.join(', ')} changed; enter them again (PATCH /api/v1/accounts/:id with a password) before opening sessions`,
            },
          }),
        });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/resources/:id',
      handler: async ({ user, params, sourceAddress }) => {
        const resource = await resourceFor(user, params.id, 'manage');
        await s.sessions.revokeSessionsOf(user, { resourceId: resource.id }, 'resource deleted', sourceAddress);
        await s.store.resources.delete(resource.id);
        // projectId from the row read before the delete: the audit cannot look it up afterwards.
        await s.audit({
          actor: user,
          action: 'resource.delete',
          targetType: 'resource',
          targetId: resource.id,
          projectId: resource.projectId,
          sourceAddress,
          details: { name: resource.name },
        });
        return ok({ ok: true });
      },
    }),

    route({
      method: 'POST',
      path: '/api/v1/resources/:id/accounts',
      body: createAccountBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const resource = await resourceFor(user, params.id, 'manage');
        const id = randomUUID();
        const account = await s.store.accounts.create({
          id,
          resourceId: resource.id,
          name: body.name,
          description: body.description,
          username: body.username,
          passwordSealed: s.box.seal(body.password, accountPasswordAad(id)),
          requireMfa: body.requireMfa,
        });
        await s.audit({
          actor: user,
          action: 'account.create',
          targetType: 'account',
          targetId: account.id,
          sourceAddress,
          details: { name: account.name, resourceId: resource.id },
        });
        return created({ account: accountDto(account) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/resources/:id/accounts',
      handler: async ({ user, params }) => {
        const resource = await resourceFor(user, params.id, 'manage');
        return ok({ accounts: (await s.store.accounts.listByResource(resource.id)).map(accountDto) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/accounts/:id',
      handler: async ({ user, params }) => {
        const account = await accountFor(user, params.id);
        return ok({ account: { ...accountDto(account), requireApproval: approvalRuleDto(await s.store.policies.approvalRule(account.id)) } });
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/v1/accounts/:id',
      body: updateAccountBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const account = await accountFor(user, params.id);
        const { password, requireApproval, ...rest } = body;
        if (requireApproval !== undefined) {
          const rule = requireApproval && {
            approverUserIds: [...new Set(requireApproval.approverUsers)],
            approverGroupIds: [...new Set(requireApproval.approverGroups)],
            requiredApprovals: requireApproval.requiredApprovals,
          };
          if (rule) {
            for (const userId of rule.approverUserIds)
              if (!(await s.store.users.findById(userId)))
                throw new InvalidInputError(`requireApproval.approverUsers: no user ${userId}`, 'requireApproval.approverUsers');
            const groups = new Set((await s.store.groups.listByProject(account.resource.projectId)).map((g) => g.id));
            for (const groupId of rule.approverGroupIds)
              if (!groups.has(groupId))
                throw new InvalidInputError(`requireApproval.approverGroups: no group ${groupId} in this project`, 'requireApproval.approverGroups');
          }
          await s.store.policies.setApprovalRule(account.id, rule);
        }
        const updated = await s.store.accounts.update(
          account.id,
          { ...rest, ...(password !== undefined && { passwordSealed: s.box.seal(password, accountPasswordAad(account.id)) }) },
          new Date(),
        );
        if (!updated) throw notFound('account');
        if (password !== undefined || (rest.username !== undefined && rest.username !== account.username)) {
          await s.sessions.revokeSessionsOf(
            user,
            { accountId: account.id },
            password !== undefined ? 'account password changed' : 'account username changed',
            sourceAddress,
          );
        }
        await s.audit({
          actor: user,
          action: 'account.update',
          targetType: 'account',
          targetId: account.id,
          sourceAddress,
          details: { fields: Object.keys(body), ...(requireApproval !== undefined && { requireApproval }) },
        });
        return ok({ account: { ...accountDto(updated), requireApproval: approvalRuleDto(await s.store.policies.approvalRule(account.id)) } });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/accounts/:id',
      handler: async ({ user, params, sourceAddress }) => {
        const account = await accountFor(user, params.id);
        await s.sessions.revokeSessionsOf(user, { accountId: account.id }, 'account deleted', sourceAddress);
        await s.store.accounts.delete(account.id);
        await s.audit({
          actor: user,
          action: 'account.delete',
          targetType: 'account',
          targetId: account.id,
          projectId: account.resource.projectId,
          sourceAddress,
          details: { name: account.name, resourceId: account.resource.id },
        });
        return ok({ ok: true });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/projects/:projectId/accounts',
      handler: async ({ user, params }) => {
        if (!(await s.store.projects.findById(params.projectId))) throw notFound('project');
        if (!(await s.permissions.can(user, params.projectId, 'access'))) {
          throw new GatehouseError(ErrorCodes.FORBIDDEN, 'you may not open sessions in this project');
        }
        // Exactly what the caller may access or request, per their role and policies.
        const grants = await s.access.grants(user, params.projectId);
        const health = new Map<string, Promise<{ connected: boolean; lastSeenAt: string | null }>>();
        const gatewayOf = (resourceId: string) => {
          let found = health.get(resourceId);
          if (!found) health.set(resourceId, (found = gatewayHealth(resourceId)));
          return found;
        };
        return ok({
          accounts: await Promise.all(
            grants.map(async (g) => ({
              ...accessibleAccountDto(g.account),
              requireApproval: g.approval !== undefined,
              maxDurationSeconds: g.maxDurationSeconds,
              gateway: await gatewayOf(g.account.resource.id),
            })),
          ),
        });
      },
    }),
  ];
}
