import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { encodeTextCursor } from '../../store/keyset.ts';
import { listMembersQuery } from '../access-schemas.ts';
import { projectDto, userDto } from '../dto.ts';
import { notFound } from '../errors.ts';
import { created, ok, route, type AnyRoute } from '../route.ts';
import { createProjectBody, createUserBody, setMemberBody } from '../schemas.ts';
import type { Services } from '../services.ts';

export function projectRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/v1/projects',
      handler: async ({ user }) => {
        if (user.isAdmin) return ok({ projects: (await s.store.projects.list()).map((p) => ({ ...projectDto(p), role: 'admin' })) });
        return ok({ projects: (await s.store.projects.listForUser(user.id)).map((p) => ({ ...projectDto(p), role: p.role })) });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/projects',
      body: createProjectBody,
      handler: async ({ user, body, sourceAddress }) => {
        s.permissions.requireInstanceAdmin(user);
        const project = await s.store.projects.create(body.name);
        await s.store.projects.setMember(project.id, user.id, 'admin');
        await s.audit({ actor: user, action: 'project.create', targetType: 'project', targetId: project.id, sourceAddress, details: { name: project.name } });
        return created({ project: projectDto(project) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/projects/:projectId/members',
      query: listMembersQuery,
      handler: async ({ user, params, query }) => {
        await s.permissions.require(user, params.projectId, 'manage');
        const { cursor, limit, ...filter } = query;
        const rows = await s.store.projects.membersPage(params.projectId, { ...filter, after: cursor, limit: limit + 1 });
        const members = rows.slice(0, limit);
        const totp = await s.store.userAdmin.withTotp();
        const nextCursor = rows.length > limit ? encodeTextCursor({ key: members[members.length - 1].email }) : null;
        return ok({ members: members.map((m) => ({ ...m, mfa: { totp: totp.has(m.userId) } })), nextCursor });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/projects/:projectId/members',
      body: setMemberBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        await s.permissions.require(user, params.projectId, 'manage');
        if (!(await s.store.projects.findById(params.projectId))) throw notFound('project');
        // Looking accounts up by email is for instance admins (who list every user anyway): a
        // project admin must not learn from the answer whether an email has an account.
        if (body.userId === undefined && !user.isAdmin) {
          throw new GatehouseError(
            ErrorCodes.FORBIDDEN,
            'project admins add members by userId; to add someone by email, invite them (POST /api/v1/users/invitations with projectId and role)',
          );
        }
        const member = body.userId !== undefined ? await s.store.users.findById(body.userId) : await s.store.users.findByEmail(body.email ?? '');
        if (!member) throw notFound('user');
        await s.store.projects.setMember(params.projectId, member.id, body.role);
        await s.audit({
          actor: user,
          action: 'project.member.set',
          targetType: 'project',
          targetId: params.projectId,
          sourceAddress,
          details: { userId: member.id, role: body.role },
        });
        return ok({ member: { userId: member.id, email: member.email, name: member.name, role: body.role } });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/users',
      body: createUserBody,
      handler: async ({ user, body, sourceAddress }) => {
        s.permissions.requireInstanceAdmin(user);
        if (await s.store.users.findByEmail(body.email)) throw new GatehouseError(ErrorCodes.CONFLICT, `a user with email ${body.email} already exists`);
        const createdUser = await s.store.users.create({
          email: body.email,
          name: body.name ?? body.email,
          passwordHash: await hashPassword(body.password),
          isAdmin: body.isAdmin,
        });
        await s.audit({
          actor: user,
          action: 'user.create',
          targetType: 'user',
          targetId: createdUser.id,
          sourceAddress,
          details: { email: createdUser.email, isAdmin: createdUser.isAdmin },
        });
        return created({ user: userDto(createdUser) });
      },
    }),
  ];
}
