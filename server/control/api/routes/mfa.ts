/** MFA routes: the sign-in second step, self-service enrollment, email codes and the organization setting. */
import { z } from 'zod';
import { ok, publicRoute, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

const mfaToken = z.string().min(1).max(2048);
const code = z.string().trim().min(1).max(64);
const verifyBody = z.object({ mfaToken, method: z.enum(['totp', 'email', 'recovery']), code });
const tokenBody = z.object({ mfaToken });
const confirmWithTokenBody = z.object({ mfaToken, code });
const codeBody = z.object({ code });
const settingsBody = z.object({ enforce: z.enum(['none', 'totp', 'email']) });

export function mfaRoutes(s: Services): AnyRoute[] {
  return [
    // Sign-in, second step (the MFA token from /auth/login is the credential).
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/mfa/verify',
      body: verifyBody,
      handler: async ({ body, sourceAddress }) => ok(await s.signIn.verify(body.mfaToken, body.method, body.code, sourceAddress)),
    }),
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/mfa/email/send',
      body: tokenBody,
      handler: async ({ body, sourceAddress }) => ok(await s.signIn.sendEmailCode(body.mfaToken, sourceAddress)),
    }),
    // Enrollment the organization requires before the first sign-in completes.
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/mfa/totp/enroll',
      body: tokenBody,
      handler: async ({ body, sourceAddress }) => ok(await s.signIn.enrollTotp(body.mfaToken, sourceAddress)),
    }),
    publicRoute({
      method: 'POST',
      path: '/api/v1/auth/mfa/totp/confirm',
      body: confirmWithTokenBody,
      handler: async ({ body, sourceAddress }) => ok(await s.signIn.confirmTotp(body.mfaToken, body.code, sourceAddress)),
    }),

    // Self-service for a signed-in user.
    route({
      method: 'GET',
      path: '/api/v1/me/mfa',
      handler: async ({ user }) => ok(await s.mfa.status(user)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/me/mfa/totp/enroll',
      handler: async ({ user, sourceAddress }) => ok(await s.mfa.enrollTotp(user, sourceAddress)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/me/mfa/totp/confirm',
      body: codeBody,
      handler: async ({ user, body, sourceAddress }) => ok(await s.mfa.confirmTotp(user, body.code, sourceAddress)),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/me/mfa/totp',
      body: codeBody,
      handler: async ({ user, body, sourceAddress }) => {
        await s.mfa.disableTotp(user, body.code, sourceAddress);
        return ok({ ok: true });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/me/mfa/email/send',
      handler: async ({ user, sourceAddress }) => ok(await s.mfa.sendEmailCode(user, 'access', sourceAddress)),
    }),

    // Organization setting (instance admin).
    route({
      method: 'GET',
      path: '/api/v1/settings/mfa',
      handler: async ({ user }) => {
        s.permissions.requireInstanceAdmin(user);
        return ok({ enforce: await s.mfa.repo.enforcement(), emailAvailable: s.mfa.emailAvailable });
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/v1/settings/mfa',
      body: settingsBody,
      handler: async ({ user, body, sourceAddress }) => {
        s.permissions.requireInstanceAdmin(user);
        await s.mfa.setEnforcement(user, body.enforce, sourceAddress);
        return ok({ enforce: body.enforce, emailAvailable: s.mfa.emailAvailable });
      },
    }),
  ];
}
