/**
 * Reads the web console needs beyond the resource routes: per-session counters for the
 * sessions list, search within a session log, and the audit chain's verification status.
 * Each one is scoped exactly like the route it complements (sessions/:id, audit).
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { verifyAuditChain } from '../../audit/verify.ts';
import { toNumber } from '../../store/errors.ts';
import { ok, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

const statsQuery = z.object({
  ids: z
    .string()
    .max(100 * 80)
    .transform((v) => [...new Set(v.split(',').filter(Boolean))])
    .pipe(z.array(z.string().min(1).max(128)).max(100)),
});
const searchQuery = z.object({
  q: z.string().trim().min(1).max(200),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export interface SessionStats {
  connections: number;
  statements: number;
  errors: number;
  client: string | null;
  lastEventAt: string | null;
}

export function consoleRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/v1/sessions/stats',
      query: statsQuery,
      handler: async ({ user, query }) => {
        // Only sessions the caller may see (the same check as GET /sessions/:id).
        const visible: string[] = [];
        for (const id of query.ids) {
          const session = await s.sessions.get(user, id).catch(() => undefined);
          if (session) visible.push(session.id);
        }
        const stats: Record<string, SessionStats> = {};
        if (visible.length === 0) return ok({ stats });
        const rows = await sql<{
          session_id: string;
          connections: unknown;
          statements: unknown;
          errors: unknown;
          client: string | null;
          last_at: Date | string | null;
        }>`
          select session_id,
                 count(*) filter (where type = 'connect') as connections,
                 count(*) filter (where type = 'statement') as statements,
                 count(*) filter (where type = 'statement' and data->'outcome'->>'status' = 'error') as errors,
                 max(data->>'applicationName') filter (where type = 'connect') as client,
                 max(at) as last_at
          from session_events
          where session_id in (${sql.join(visible)})
          group by session_id`.execute(s.store.db);
        for (const id of visible) stats[id] = { connections: 0, statements: 0, errors: 0, client: null, lastEventAt: null };
        for (const r of rows.rows) {
          stats[r.session_id] = {
            connections: toNumber(r.connections as never),
            statements: toNumber(r.statements as never),
            errors: toNumber(r.errors as never),
            client: r.client || null,
            lastEventAt: r.last_at === null ? null : new Date(r.last_at).toISOString(),
          };
        }
        return ok({ stats });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/sessions/:id/logs/search',
      query: searchQuery,
      handler: async ({ user, params, query }) => {
        const session = await s.sessions.get(user, params.id);
        const pattern = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const rows = await sql<{ seq: unknown; connection_id: string; at: Date; type: string; data: Record<string, unknown> }>`
          select seq, connection_id, at, type, data from session_events
          where session_id = ${session.id} and seq > ${query.after}
            and (data->>'sql' ilike ${pattern} or data->'outcome'->>'sqlstate' = ${query.q} or data->'outcome'->>'message' ilike ${pattern})
          order by seq, id
          limit ${query.limit + 1}`.execute(s.store.db);
        const more = rows.rows.length > query.limit;
        const events = rows.rows.slice(0, query.limit).map((r) => ({
          ...r.data,
          seq: toNumber(r.seq as never),
          sessionId: session.id,
          connectionId: r.connection_id,
          at: new Date(r.at).toISOString(),
          type: r.type,
        }));
        return ok(more ? { events, next: events[events.length - 1].seq } : { events });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/verify',
      handler: async ({ user }) => {
        const auditable = await s.permissions.projectsWhere(user, 'audit');
        if (auditable !== undefined && auditable.length === 0)
          throw new GatehouseError(ErrorCodes.FORBIDDEN, 'only administrators and auditors may verify the audit trail');
        const verdict = await verifyAuditChain(s.store.auditEvents);
        // Non-instance admins learn whether the chain holds, not which event broke it.
        const checkedAt = new Date().toISOString();
        if (verdict.state === 'ok') return ok({ state: 'ok', count: verdict.count, lastHash: verdict.lastHash, checkedAt });
        return ok({ state: 'broken', count: verdict.count, checkedAt, ...(auditable === undefined ? { event: verdict.event, reason: verdict.reason } : {}) });
      },
    }),
  ];
}
