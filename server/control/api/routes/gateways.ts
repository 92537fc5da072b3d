import { gatewayDto } from '../dto.ts';
import { notFound } from '../errors.ts';
import { created, ok, publicRoute, route, type AnyRoute } from '../route.ts';
import { createGatewayBody, enrollBody, linkChallengeBody } from '../schemas.ts';
import type { Services } from '../services.ts';

export function gatewayRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/gateways',
      body: createGatewayBody,
      handler: async ({ user, body, sourceAddress }) => {
        const projectId = body.projectId ?? null;
        if (projectId !== null && !(await s.store.projects.findById(projectId))) throw notFound('project');
        await s.permissions.requireManageGateway(user, projectId);
        const { gateway, enrollmentToken, expiresAt } = await s.gateways.create(body.name, projectId);
        await s.audit({
          actor: user,
          action: 'gateway.create',
          targetType: 'gateway',
          targetId: gateway.id,
          sourceAddress,
          details: { name: gateway.name, projectId },
        });
        return created({ gateway: { id: gateway.id, name: gateway.name, projectId }, enrollmentToken, expiresAt: expiresAt.toISOString() });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/gateways',
      handler: async ({ user }) => {
        const projectIds = await s.permissions.projectsWhere(user, 'manage');
        if (projectIds !== undefined && projectIds.length === 0) return ok({ gateways: [] }); // not an admin anywhere
        const list = await s.store.gateways.list(projectIds === undefined ? undefined : { projectIds });
        // `connected` is cluster-wide: a live link to this replica, or to any other (stored per replica).
        return ok({ gateways: await Promise.all(list.map(async (g) => gatewayDto(g, g.connected || (await s.relay.isGatewayConnected(g.id))))) });
      },
    }),
    publicRoute({
      method: 'POST',
      path: '/api/v1/gateways/enroll',
      body: enrollBody,
      handler: async ({ body, sourceAddress }) => {
        const result = await s.gateways.enroll(body.token, body.publicKeyPem);
        await s.audit({ actor: null, action: 'gateway.enroll', targetType: 'gateway', targetId: result.gatewayId, sourceAddress });
        return ok(result);
      },
    }),
    publicRoute({
      method: 'POST',
      path: '/api/v1/gateways/link-challenge',
      body: linkChallengeBody,
      handler: async ({ body }) => {
        const { nonce, expiresAt } = await s.gateways.issueLinkChallenge(body.gatewayId);
        return ok({ nonce, expiresAt: expiresAt.toISOString() });
      },
    }),
  ];
}
