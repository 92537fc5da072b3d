import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, SessionEventsTable } from './schema.ts';
import { toNumber } from './errors.ts';

/** A stored session event: the gateway's event as sent (see SessionEvent in docs/architecture.md). */
export interface StoredSessionEvent {
  seq: number;
  sessionId: string;
  connectionId: string;
  at: string;
  type: string;
  [field: string]: unknown;
}

export type SessionEventsRepo = ReturnType<typeof createSessionEventsRepo>;

export function createSessionEventsRepo(db: Kysely<Database>) {
  return {
    /** Inserts events; a (gatewayId, seq) already stored is skipped, so retries are harmless. */
    async insert(gatewayId: string, events: readonly StoredSessionEvent[]): Promise<number> {
      if (events.length === 0) return 0;
      // One JSON parameter expanded by the database: a batch of hundreds of events costs one
      // bind value instead of seven per event (about 3× less CPU per event on PGlite).
      const rows = events.map(({ seq, sessionId, connectionId, at, type, ...data }) => ({
        seq,
        session_id: sessionId,
        connection_id: connectionId,
        at,
        type,
        data,
      }));
      const result = await sql`
        insert into session_events (gateway_id, seq, session_id, connection_id, at, type, data)
        select ${gatewayId}, r.seq, r.session_id, r.connection_id, r.at, r.type, r.data
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(seq bigint, session_id text, connection_id text, at timestamptz, type text, data jsonb)
        on conflict (gateway_id, seq) do nothing`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },
    /**
     * The newest `count` events of a session, oldest first: one backwards walk of the
     * (session_id, seq) index, whatever the session's size.
     */
    async tail(sessionId: string, count: number): Promise<StoredSessionEvent[]> {
      const rows = await db
        .selectFrom('session_events')
        .selectAll()
        .where('session_id', '=', sessionId)
        .orderBy('seq', 'desc')
        .orderBy('id', 'desc')
        .limit(count)
        .execute();
      return rows.reverse().map(toEvent);
    },
    /** Deletes up to `batch` events of one session; returns how many went. */
    async deleteSessionBatch(sessionId: string, batch: number): Promise<number> {
      const result = await sql`
        delete from session_events where id in (
          select id from session_events where session_id = ${sessionId} limit ${batch})`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },
    /** Sessions over before `cutoff` (ended, or past their expiry) that still have events. */
    async sessionsOverBefore(cutoff: Date, limit: number): Promise<string[]> {
      const result = await sql<{ id: string }>`
        select s.id from sessions s
        where coalesce(s.ended_at, s.expires_at) < ${cutoff}
          and exists (select 1 from session_events e where e.session_id = s.id)
        limit ${limit}`.execute(db);
      return result.rows.map((r) => r.id);
    },
    /** One page of a session's events in gateway order, after `afterSeq`. */
    async page(sessionId: string, afterSeq: number, limit: number): Promise<{ events: StoredSessionEvent[]; next?: number }> {
      const rows = await db
        .selectFrom('session_events')
        .selectAll()
        .where('session_id', '=', sessionId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
      const more = rows.length > limit;
      const events = rows.slice(0, limit).map(toEvent);
      return more ? { events, next: events[events.length - 1].seq } : { events };
    },
  };
}

function toEvent(row: Selectable<SessionEventsTable>): StoredSessionEvent {
  return {
    ...row.data,
    seq: toNumber(row.seq),
    sessionId: row.session_id,
    connectionId: row.connection_id,
    at: row.at.toISOString(),
    type: row.type,
  };
}
