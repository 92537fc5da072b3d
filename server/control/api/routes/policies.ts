import { policyDto } from '../access-dto.ts';
import { createPolicyBody } from '../access-schemas.ts';
import { InvalidInputError, notFound } from '../errors.ts';
import { created, ok, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

export function policyRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/projects/:projectId/policies',
      body: createPolicyBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const projectId = params.projectId;
        await s.permissions.require(user, projectId, 'manage');
        if (!(await s.store.projects.findById(projectId))) throw notFound('project');
        for (const userId of body.users) if (!(await s.store.users.findById(userId))) throw new InvalidInputError(`users: no user ${userId}`, 'users');
        const groups = new Set((await s.store.groups.listByProject(projectId)).map((g) => g.id));
        for (const groupId of body.groups) if (!groups.has(groupId)) throw new InvalidInputError(`groups: no group ${groupId} in this project`, 'groups');
        const accounts = new Set((await s.store.accounts.listByProject(projectId)).map((a) => a.id));
        for (const accountId of body.accounts)
          if (!accounts.has(accountId)) throw new InvalidInputError(`accounts: no account ${accountId} in this project`, 'accounts');
        const policy = await s.store.policies.create({
          projectId,
          name: body.name,
          userIds: [...new Set(body.users)],
          groupIds: [...new Set(body.groups)],
          accountIds: [...new Set(body.accounts)],
          maxDurationSeconds: body.maxDurationSeconds,
        });
        await s.audit({
          actor: user,
          action: 'policy.create',
          targetType: 'policy',
          targetId: policy.id,
          sourceAddress,
          details: { ...policyDto(policy), createdAt: undefined },
        });
        return created({ policy: policyDto(policy) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/projects/:projectId/policies',
      handler: async ({ user, params }) => {
        await s.permissions.require(user, params.projectId, 'manage');
        return ok({ policies: (await s.store.policies.listByProject(params.projectId)).map(policyDto) });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/policies/:id',
      handler: async ({ user, params, sourceAddress }) => {
        const policy = await s.store.policies.findById(params.id);
        if (!policy || !(await s.permissions.can(user, policy.projectId, 'read'))) throw notFound('policy');
        await s.permissions.require(user, policy.projectId, 'manage');
        await s.store.policies.delete(policy.id);
        await s.audit({
          actor: user,
          action: 'policy.delete',
          targetType: 'policy',
          targetId: policy.id,
          sourceAddress,
          details: { projectId: policy.projectId, name: policy.name },
        });
        return ok({ ok: true });
      },
    }),
  ];
}
