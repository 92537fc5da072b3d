import { adminUserDto, invitationDto } from '../access-dto.ts';
import { encodeTextCursor } from '../../store/keyset.ts';
import { acceptInvitationBody, invitationCodeBody, inviteBody, listUsersQuery, updateUserBody } from '../access-schemas.ts';
import { created, ok, publicRoute, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

export function userRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/users/invitations',
      body: inviteBody,
      handler: async ({ user, body, sourceAddress }) => {
        const { invitation, code } = await s.users.invite(user, body, sourceAddress);
        // From the configured public URL, never the request's Host header (which the caller chooses).
        return created({ invitation: invitationDto(invitation), code, url: `${s.publicUrl()}/accept-invitation#code=${encodeURIComponent(code)}` });
      },
    }),
    publicRoute({
      method: 'POST',
      // POST so the code stays out of URLs and access logs. Only the code's holder learns
      // whether the invited email already has an account (the console asks for its password then).
      path: '/api/v1/auth/accept-invitation/preview',
      body: invitationCodeBody,
      handler: async ({ body, sourceAddress }) => {
        const { invitation, projectName, existingAccount } = await s.users.previewInvitation(body.code, sourceAddress);
        return ok({ invitation: { ...invitationDto(invitation), projectName }, existingAccount });
      },
    }),
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/accept-invitation',
      body: acceptInvitationBody,
      handler: async ({ body, sourceAddress }) => {
        const user = await s.users.acceptInvitation(body, sourceAddress);
        // The same steps as after a right password at sign-in: enforced MFA applies here too.
        return ok(await s.signIn.afterPassword(user, sourceAddress));
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/users',
      query: listUsersQuery,
      handler: async ({ user, query }) => {
        const { cursor, role, limit, ...filter } = query;
        const rows = await s.users.list(user, { ...filter, isAdmin: role === undefined ? undefined : role === 'admin', after: cursor, limit: limit + 1 });
        const users = rows.slice(0, limit);
        const totp = await s.store.userAdmin.withTotp();
        const nextCursor = rows.length > limit ? encodeTextCursor({ key: users[users.length - 1].email }) : null;
        return ok({ users: users.map((u) => adminUserDto(u, totp.has(u.id))), nextCursor });
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/v1/users/:id',
      body: updateUserBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const updated = await s.users.update(user, params.id, body, sourceAddress);
        const totp = await s.store.userAdmin.withTotp();
        return ok({ user: adminUserDto(updated, totp.has(updated.id)) });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/users/:id/mfa',
      handler: async ({ user, params, sourceAddress }) => {
        await s.users.resetMfa(user, params.id, sourceAddress);
        return ok({ ok: true });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/users/:id',
      handler: async ({ user, params, sourceAddress }) => {
        await s.users.delete(user, params.id, sourceAddress);
        return ok({ ok: true });
      },
    }),
  ];
}
