import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { toNumber } from './errors.ts';

export interface AuditEventInput {
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  sourceAddress: string | null;
  details?: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  id: number;
  at: Date;
  details: Record<string, unknown>;
}

export type AuditEventsRepo = ReturnType<typeof createAuditEventsRepo>;

export function createAuditEventsRepo(db: Kysely<Database>) {
  return {
    async record(event: AuditEventInput): Promise<void> {
      await db
        .insertInto('audit_events')
        .values({
          actor_id: event.actorId,
          actor_email: event.actorEmail,
          action: event.action,
          target_type: event.targetType,
          target_id: event.targetId,
          source_address: event.sourceAddress,
          details: JSON.stringify(event.details ?? {}),
        })
        .execute();
    },
    async list(filter: { action?: string; targetId?: string; limit: number }): Promise<AuditEvent[]> {
      let query = db.selectFrom('audit_events').selectAll().orderBy('id').limit(filter.limit);
      if (filter.action !== undefined) query = query.where('action', '=', filter.action);
      if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
      const rows = await query.execute();
      return rows.map((row) => ({
        id: toNumber(row.id),
        at: row.at,
        actorId: row.actor_id,
        actorEmail: row.actor_email,
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        sourceAddress: row.source_address,
        details: row.details,
      }));
    },
  };
}
