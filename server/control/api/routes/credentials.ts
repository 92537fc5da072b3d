/**
 * Credential rotation, credential health and Check connection (issue 13; issue 11 "Check
 * connection"). Project admins only (`manage`); every change and every run is audited.
 * Passwords are write-only: no response carries one, plaintext or sealed.
 */
import { z } from 'zod';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { credentialsDto, RotationBusy } from '../../credentials/credential-service.ts';
import { rotationPasswordAad } from '../../store/credentials.ts';
import type { User } from '../../store/users.ts';
import { notFound } from '../errors.ts';
import { ok, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

export const ROTATION_INTERVAL_DAYS = [1, 3, 7, 30] as const;

const rotationAccountBody = z.object({ username: z.string().min(1).max(63), password: z.string().min(1).max(4096) }).strict();
const rotationSettingsBody = z
  .object({
    enabled: z.boolean().optional(),
    intervalDays: z
      .number()
      .int()
      .refine((d) => (ROTATION_INTERVAL_DAYS as readonly number[]).includes(d), { message: 'intervalDays must be 1, 3, 7 or 30' })
      .optional(),
  })
  .strict()
  .refine((b) => b.enabled !== undefined || b.intervalDays !== undefined, { message: 'give enabled and/or intervalDays' });

export function credentialRoutes(s: Services): AnyRoute[] {
  async function resourceFor(user: User, id: string) {
    const resource = await s.store.resources.findById(id);
    if (!resource || !(await s.permissions.can(user, resource.projectId, 'read'))) throw notFound('resource');
    await s.permissions.require(user, resource.projectId, 'manage');
    return resource;
  }
  async function accountFor(user: User, id: string) {
    const account = await s.store.accounts.findById(id);
    if (!account || !(await s.permissions.can(user, account.resource.projectId, 'read'))) throw notFound('account');
    await s.permissions.require(user, account.resource.projectId, 'manage');
    return account;
  }
  const status = async (accountId: string) => credentialsDto(await s.store.credentials.get(accountId));

  return [
    route({
      method: 'GET',
      path: '/api/v1/resources/:id/rotation-account',
      handler: async ({ user, params }) => {
        const resource = await resourceFor(user, params.id);
        const ra = await s.store.credentials.rotationAccount(resource.id);
        return ok({ rotationAccount: ra ? { username: ra.username, updatedAt: ra.updatedAt.toISOString() } : null });
      },
    }),
    route({
      method: 'PUT',
      path: '/api/v1/resources/:id/rotation-account',
      body: rotationAccountBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const resource = await resourceFor(user, params.id);
        await s.store.credentials.setRotationAccount(resource.id, body.username, s.box.seal(body.password, rotationPasswordAad(resource.id)));
        await s.audit({
          actor: user,
          action: 'resource.rotation_account_set',
          targetType: 'resource',
          targetId: resource.id,
          projectId: resource.projectId,
          sourceAddress,
          details: { name: resource.name, username: body.username },
        });
        const ra = await s.store.credentials.rotationAccount(resource.id);
        return ok({ rotationAccount: { username: body.username, updatedAt: ra?.updatedAt.toISOString() ?? new Date().toISOString() } });
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/resources/:id/rotation-account',
      handler: async ({ user, params, sourceAddress }) => {
        const resource = await resourceFor(user, params.id);
        const removed = await s.store.credentials.clearRotationAccount(resource.id);
        if (!removed) throw notFound('rotation account');
        await s.audit({
          actor: user,
          action: 'resource.rotation_account_clear',
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
      method: 'GET',
      path: '/api/v1/accounts/:id/credentials',
      handler: async ({ user, params }) => {
        const account = await accountFor(user, params.id);
        return ok({ credentials: await status(account.id) });
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/v1/accounts/:id/rotation',
      body: rotationSettingsBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const account = await accountFor(user, params.id);
        const before = await s.store.credentials.get(account.id);
        const settings = { enabled: body.enabled ?? before.rotationEnabled, intervalDays: body.intervalDays ?? before.intervalDays };
        await s.store.credentials.setRotation(account.id, settings);
        await s.audit({
          actor: user,
          action: 'account.rotation_settings',
          targetType: 'account',
          targetId: account.id,
          projectId: account.resource.projectId,
          sourceAddress,
          details: { name: account.name, ...settings },
        });
        return ok({ credentials: await status(account.id) });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/accounts/:id/rotate',
      handler: async ({ user, params, sourceAddress }) => {
        const account = await accountFor(user, params.id);
        let outcome;
        try {
          outcome = await s.credentials.rotateNow(account.id, { actor: user, sourceAddress });
        } catch (err) {
          if (err instanceof RotationBusy) throw new GatehouseError(ErrorCodes.CONFLICT, err.message);
          throw err;
        }
        const result = outcome.ok ? { ok: true, reconciled: outcome.reconciled } : { ok: false, ...outcome.failure };
        return ok({ result, credentials: await status(account.id) });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/projects/:projectId/resources/:resourceId/accounts/:accountId/check',
      handler: async ({ user, params, sourceAddress }) => {
        const account = await accountFor(user, params.accountId);
        if (account.resource.projectId !== params.projectId || account.resourceId !== params.resourceId) throw notFound('account');
        const check = await s.credentials.checkConnection(account.id);
        await s.audit({
          actor: user,
          action: 'account.connection_check',
          targetType: 'account',
          targetId: account.id,
          projectId: account.resource.projectId,
          sourceAddress,
          details: {
            name: account.name,
            resourceId: account.resourceId,
            ok: check.ok,
            ...(!check.ok && { code: check.code, ...(check.sqlstate && { sqlstate: check.sqlstate }) }),
          },
        });
        return ok({ check, credentials: await status(account.id) });
      },
    }),
  ];
}
