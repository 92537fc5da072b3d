import { encodeTimeIdCursor } from '../../store/keyset.ts';
import { sessionDto } from '../dto.ts';
import { created, ok, route, type AnyRoute } from '../route.ts';
import { createSessionBody, extendSessionBody, listSessionsQuery, logsQuery } from '../schemas.ts';
import type { Services } from '../services.ts';

export function sessionRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/sessions',
      body: createSessionBody,
      handler: async ({ user, body, sourceAddress }) => {
        const result = await s.sessions.create(user, body, sourceAddress);
        return created({ ...result, session: sessionDto(result.session) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/sessions',
      query: listSessionsQuery,
      handler: async ({ user, query }) => {
        const { cursor, ...filter } = query;
        const page = await s.sessions.list(user, { ...filter, after: cursor });
        const nextCursor = page.last ? encodeTimeIdCursor({ at: page.last.createdAt, id: page.last.id }) : null;
        return ok({ sessions: page.sessions.map(sessionDto), nextCursor });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/sessions/:id',
      handler: async ({ user, params }) => {
        const session = await s.sessions.get(user, params.id);
        // Who revoked it, from the audit trail: the desktop app and CLI say it to the session's user.
        const revokedBy =
          session.status === 'revoked'
            ? ((await s.store.auditEvents.list({ action: 'session.revoke', targetId: session.id, limit: 1 }))[0]?.actor.email ?? null)
            : undefined;
        return ok({ session: { ...sessionDto(session), ...(revokedBy !== undefined && { revokedBy }) } });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/sessions/:id/end',
      handler: async ({ user, params, sourceAddress }) => ok({ session: sessionDto(await s.sessions.end(user, params.id, sourceAddress)) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/sessions/:id/extend',
      body: extendSessionBody,
      handler: async ({ user, params, body, sourceAddress }) => {
        const result = await s.sessions.extend(user, params.id, body, sourceAddress);
        return ok({ ...result, session: sessionDto(result.session) });
      },
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
