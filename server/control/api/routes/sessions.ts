import { sessionDto } from '../dto.ts';
import { created, ok, route, type AnyRoute } from '../route.ts';
import { createSessionBody, listSessionsQuery, logsQuery } from '../schemas.ts';
import type { Services } from '../services.ts';
import { present } from '../../sessions.ts';
import { requireSessionMfa } from '../../auth/mfa/session-mfa.ts';

export function sessionRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/sessions',
      body: createSessionBody,
      handler: async ({ user, body, sourceAddress }) => {
        await requireSessionMfa(s, user, body, sourceAddress);
        const result = await s.sessions.create(user, body, sourceAddress);
        return created({ ...result, session: sessionDto(result.session) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/sessions',
      query: listSessionsQuery,
      handler: async ({ user, query }) => {
        // Own sessions, plus every session in projects the caller may audit.
        const auditable = await s.permissions.projectsWhere(user, 'audit');
        const own = await s.store.sessions.list({ userId: user.id, projectId: query.projectId, status: query.status, limit: query.limit });
        const others = auditable === undefined || auditable.length > 0 ? await s.store.sessions.list({ projectIds: auditable, projectId: query.projectId, status: query.status, limit: query.limit }) : [];
        const byId = new Map([...own, ...others].map((session) => [session.id, present(session, new Date())]));
        const sessions = [...byId.values()]
          .filter((session) => query.status === undefined || session.status === query.status)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
          .slice(0, query.limit);
        return ok({ sessions: sessions.map(sessionDto) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/sessions/:id',
      handler: async ({ user, params }) => ok({ session: sessionDto(await s.sessions.get(user, params.id)) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/sessions/:id/end',
      handler: async ({ user, params, sourceAddress }) => ok({ session: sessionDto(await s.sessions.end(user, params.id, sourceAddress)) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/sessions/:id/revoke',
      handler: async ({ user, params, sourceAddress }) => ok({ session: sessionDto(await s.sessions.revoke(user, params.id, sourceAddress)) }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/sessions/:id/logs',
      query: logsQuery,
      handler: async ({ user, params, query }) => {
        const session = await s.sessions.get(user, params.id);
        if (query.tail !== undefined) return ok({ events: await s.store.sessionEvents.tail(session.id, query.tail) });
        return ok(await s.store.sessionEvents.page(session.id, query.after, query.limit));
      },
    }),
  ];
}
