/**
 * Sign-in for the web console (browser): the same steps as `/auth/login`, `/auth/mfa/*` and
 * `/auth/accept-invitation`, but the refresh token goes into an HttpOnly cookie instead of
 * the body; refresh and sign-out are authenticated by that cookie plus the CSRF header
 * (console/cookie-session.ts). Bearer-token callers keep using the routes they use today.
 */
import { z } from 'zod';
import { acceptInvitationBody } from '../access-schemas.ts';
import { ok, publicRoute, route, type AnyRoute, type Reply } from '../route.ts';
import { loginBody } from '../schemas.ts';
import type { Services } from '../services.ts';

const mfaToken = z.string().min(1).max(2048);
const code = z.string().trim().min(1).max(64);
const verifyBody = z.object({ mfaToken, method: z.enum(['totp', 'email', 'recovery']), code });
const confirmBody = z.object({ mfaToken, code });
const emptyBody = z.object({}).strict();

export const COOKIE_AUTH_ROUTES = {
  login: '/api/v1/auth/cookie/login',
  verify: '/api/v1/auth/cookie/mfa/verify',
  confirmTotp: '/api/v1/auth/cookie/mfa/totp/confirm',
  acceptInvitation: '/api/v1/auth/cookie/accept-invitation',
  refresh: '/api/v1/auth/cookie/refresh',
  logout: '/api/v1/auth/cookie/logout',
} as const;

export function cookieAuthRoutes(s: Services): AnyRoute[] {
  const session = s.cookieSession;
  /** Tokens → cookies + `{ accessToken, expiresAt, user, csrfToken }`; MFA steps pass through. */
  const browser = (answer: object): Reply => {
    if (!('refreshToken' in answer) || typeof answer.refreshToken !== 'string') return ok(answer);
    const { refreshToken, ...rest } = answer;
    const { cookies, csrfToken } = session.issue(refreshToken);
    return { status: 200, body: { ...rest, csrfToken }, headers: { 'set-cookie': cookies } };
  };

  return [
    publicRoute({
      method: 'POST',
      path: COOKIE_AUTH_ROUTES.login,
      body: loginBody,
      handler: async ({ body, sourceAddress }) => browser(await s.signIn.login(body.email, body.password, sourceAddress)),
    }),
    publicRoute({
      method: 'POST',
      path: COOKIE_AUTH_ROUTES.verify,
      body: verifyBody,
      handler: async ({ body, sourceAddress }) => browser(await s.signIn.verify(body.mfaToken, body.method, body.code, sourceAddress)),
    }),
    publicRoute({
      method: 'POST',
      path: COOKIE_AUTH_ROUTES.confirmTotp,
      body: confirmBody,
      handler: async ({ body, sourceAddress }) => browser(await s.signIn.confirmTotp(body.mfaToken, body.code, sourceAddress)),
    }),
    publicRoute({
      method: 'POST',
      path: COOKIE_AUTH_ROUTES.acceptInvitation,
      body: acceptInvitationBody,
      handler: async ({ body, sourceAddress }) => {
        const user = await s.users.acceptInvitation(body, sourceAddress);
        // The steps after a right password (as /auth/accept-invitation): enforced MFA applies here too.
        return browser(await s.signIn.afterPassword(user, sourceAddress));
      },
    }),
    publicRoute({
      method: 'POST',
      path: COOKIE_AUTH_ROUTES.refresh,
      body: emptyBody,
      handler: async ({ req }) => {
        const refreshToken = session.authenticate(req);
        return browser(await s.auth.refresh(refreshToken));
      },
    }),
    route({
      method: 'POST',
      path: COOKIE_AUTH_ROUTES.logout,
      body: emptyBody,
      handler: async ({ req, user }) => {
        const refreshToken = session.authenticate(req);
        await s.auth.logout(user, refreshToken);
        return { status: 200, body: { ok: true }, headers: { 'set-cookie': session.clear() } };
      },
    }),
  ];
}
