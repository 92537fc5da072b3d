import type { User } from '../../store/users.ts';
import { groupDto } from '../access-dto.ts';
import { createGroupBody, groupMemberBody } from '../access-schemas.ts';
import { InvalidInputError, notFound } from '../errors.ts';
import { created, ok, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

export function groupRoutes(s: Services): AnyRoute[] {
  /** A group the caller manages (project admin), else 404 (not visible) or 403. */
  async function managedGroup(user: User, id: string) {
    const group = await s.store.groups.findById(id);
    if (!group || !(await s.permissions.can(user, group.projectId, 'read'))) throw notFound('group');
    await s.permissions.require(user, group.projectId, 'manage');
    return group;
  }

  return [
    route({
      method: 'POST',
      path: '/api/v1/projects/:projectId/groups',
      body: createGroupBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        await s.permissions.require(user, params.projectId, 'manage');
        if (!(await s.store.projects.findById(params.projectId))) throw notFound('project');
        const group = await s.store.groups.create(params.projectId, body.name);
        await s.audit({
          actor: user,
          action: 'group.create',
          targetType: 'group',
          targetId: group.id,
          sourceAddress,
          details: { projectId: group.projectId, name: group.name },
        });
        return created({ group: groupDto(group) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/projects/:projectId/groups',
      handler: async ({ user, params }) => {
        await s.permissions.require(user, params.projectId, 'manage');
        return ok({ groups: (await s.store.groups.listByProject(params.projectId)).map(groupDto) });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/groups/:id',
      handler: async ({ user, params, sourceAddress }) => {
        const group = await managedGroup(user, params.id);
        await s.store.groups.delete(group.id);
        await s.audit({
          actor: user,
          action: 'group.delete',
          targetType: 'group',
          targetId: group.id,
          sourceAddress,
          details: { projectId: group.projectId, name: group.name },
        });
        return ok({ ok: true });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/groups/:id/members',
      body: groupMemberBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const group = await managedGroup(user, params.id);
        const member = await s.store.users.findById(body.userId);
        if (!member) throw new InvalidInputError('userId: no such user', 'userId');
        await s.store.groups.addMember(group.id, member.id);
        await s.audit({
          actor: user,
          action: 'group.member.add',
          targetType: 'group',
          targetId: group.id,
          sourceAddress,
          details: { projectId: group.projectId, userId: member.id, email: member.email },
        });
        return ok({ group: groupDto((await s.store.groups.findById(group.id)) ?? group) });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/groups/:id/members/:userId',
      handler: async ({ user, params, sourceAddress }) => {
        const group = await managedGroup(user, params.id);
        if (!(await s.store.groups.removeMember(group.id, params.userId))) throw notFound('group member');
        await s.audit({
          actor: user,
          action: 'group.member.remove',
          targetType: 'group',
          targetId: group.id,
          sourceAddress,
          details: { projectId: group.projectId, userId: params.userId },
        });
        return ok({ group: groupDto((await s.store.groups.findById(group.id)) ?? group) });
      },
    }),
  ];
}
