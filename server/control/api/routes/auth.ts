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
        // Lockout, password, MFA and the audit of each attempt: auth/mfa/sign-in.ts.
        return ok(await s.signIn.login(body.email, body.password, sourceAddress));
      },
    }),
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/refresh',
      body: refreshBody,
      handler: async ({ body, sourceAddress }) => ok(await s.auth.refresh(body.refreshToken, sourceAddress)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/auth/logout',
      body: logoutBody,
      handler: async ({ req, user, body, sourceAddress }) => {
        // Ends this access token's sign-in (and the refresh token's, when given) at once.
        await s.auth.logout(user, body.refreshToken, { authorization: req.headers.authorization, sourceAddress });
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
