import { accessRequestDto } from '../access-dto.ts';
import { decisionBody, fileAccessRequestBody, listAccessRequestsQuery } from '../access-schemas.ts';
import { created, ok, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

export function accessRequestRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/access-requests',
      body: fileAccessRequestBody,
      handler: async ({ user, body, sourceAddress }) => created({ request: accessRequestDto(await s.accessRequests.file(user, body, sourceAddress)) }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/access-requests',
      query: listAccessRequestsQuery,
      handler: async ({ user, query }) => ok({ requests: (await s.accessRequests.list(user, query)).map(accessRequestDto) }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/access-requests/:id',
      handler: async ({ user, params }) => ok({ request: accessRequestDto(await s.accessRequests.get(user, params.id)) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/access-requests/:id/approve',
      body: decisionBody,
      handler: async ({ user, params, body, sourceAddress }) =>
        ok({ request: accessRequestDto(await s.accessRequests.decide(user, params.id, 'approve', body.comment, sourceAddress)) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/access-requests/:id/deny',
      body: decisionBody,
      handler: async ({ user, params, body, sourceAddress }) =>
        ok({ request: accessRequestDto(await s.accessRequests.decide(user, params.id, 'deny', body.comment, sourceAddress)) }),
    }),
  ];
}
