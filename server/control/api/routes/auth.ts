import { userDto } from '../dto.ts';
import { ok, publicRoute, route, type AnyRoute } from '../route.ts';
import { loginBody, logoutBody, refreshBody } from '../schemas.ts';
import type { Services } from '../services.ts';

export function authRoutes(s: Services): AnyRoute[] {
  return [
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/login',
      body: loginBody,
      handler: async ({ body, sourceAddress }) => {
        try {
          const result = await s.auth.login(body.email, body.password);
          await s.audit({ actor: null, action: 'auth.login', targetType: 'user', targetId: result.user.id, sourceAddress, details: { email: result.user.email } });
          return ok(result);
        } catch (err) {
          await s.audit({ actor: null, action: 'auth.login-failed', targetType: 'user', targetId: null, sourceAddress, details: { email: body.email.slice(0, 320) } });
          throw err;
        }
      },
    }),
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/refresh',
      body: refreshBody,
      handler: async ({ body }) => ok(await s.auth.refresh(body.refreshToken)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/auth/logout',
      body: logoutBody,
      handler: async ({ user, body }) => {
        await s.auth.logout(user, body.refreshToken);
        return ok({ ok: true });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/me',
      handler: async ({ user }) => {
        const projects = user.isAdmin
          ? (await s.store.projects.list()).map((p) => ({ id: p.id, name: p.name, role: 'admin' as const }))
          : (await s.store.projects.listForUser(user.id)).map((p) => ({ id: p.id, name: p.name, role: p.role }));
        return ok({ user: userDto(user), projects });
      },
    }),
  ];
}

