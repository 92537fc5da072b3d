/**
 * The audit log: append-only and hash-chained. Appends are serialized with a transaction-scoped
 * advisory lock, so two replicas never fork the chain (and the unique `seq` index would refuse
 * a fork anyway). There is no update or delete path here; a database trigger refuses both.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { CHECKPOINT_ACTION, eventHash, GENESIS_HASH, type ActorKind, type ChainedEvent, type ChainedEventBody } from './audit-chain.ts';
import { redactDetails } from './audit-redact.ts';
import type { AuditEventsTable, Database } from './schema.ts';
import { toNumber } from './errors.ts';

/** Any constant both replicas agree on: the advisory lock that serializes appends. */
const APPEND_LOCK_KEY = 0x6761_7465; // 'gate'

export interface AuditEventInput {
  actorId: string | null;
  actorEmail: string | null;
  /** Defaults to 'user' when there is an actor id or email, else 'system'. */
  actorKind?: ActorKind;
  action: string;
  targetType: string;
  targetId: string | null;
  targetName?: string | null;
  projectId?: string | null;
  sourceAddress: string | null;
  details?: Record<string, unknown>;
}

export type AuditEvent = ChainedEvent;

export interface AuditFilter {
  /** undefined: every project and events without one; otherwise only these projects. */
  projectIds?: string[];
  projectId?: string;
  /** A user id or an email. */
  actor?: string;
  /** Exact action, or a prefix ending in `*` (`auth.*`). */
  action?: string;
  from?: Date;
  to?: Date;
  targetId?: string;
  /** Events with seq greater than this. */
  after?: number;
  limit: number;
}

export type AuditEventsRepo = ReturnType<typeof createAuditEventsRepo>;

type Head = { seq: number; hash: string; action: string } | undefined;

async function head(trx: Kysely<Database>): Promise<Head> {
  const last = await trx.selectFrom('audit_events').select(['seq', 'hash', 'action']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return last && { seq: toNumber(last.seq), hash: last.hash, action: last.action };
}

/** Appends after `last`; the caller holds the append lock in `trx`. */
async function append(trx: Kysely<Database>, input: AuditEventInput, last: Head): Promise<AuditEvent> {
  const next = await sql<{ id: string | number }>`select nextval(pg_get_serial_sequence('audit_events', 'id')) as id`.execute(trx);
  const body: ChainedEventBody = {
    id: String(next.rows[0].id),
    seq: last ? last.seq + 1 : 1,
    at: new Date().toISOString(),
    actor: {
      kind: input.actorKind ?? (input.actorId !== null || input.actorEmail !== null ? 'user' : 'system'),
      userId: input.actorId,
      email: input.actorEmail,
    },
    action: input.action,
    target: { kind: input.targetType, id: input.targetId, name: input.targetName ?? null },
    projectId: input.projectId ?? null,
    sourceAddress: input.sourceAddress,
    details: redactDetails(input.details),
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  const hash = eventHash(body);
  await trx
    .insertInto('audit_events')
    .values({
      id: Number(body.id),
      seq: body.seq,
      at: new Date(body.at),
      actor_kind: body.actor.kind,
      actor_id: body.actor.userId,
      actor_email: body.actor.email,
      action: body.action,
      target_type: body.target.kind,
      target_id: body.target.id,
      target_name: body.target.name,
      project_id: body.projectId,
      source_address: body.sourceAddress,
      details: JSON.stringify(body.details),
      prev_hash: body.prevHash,
      hash,
    })
    .execute();
  return { ...body, hash };
}

export function createAuditEventsRepo(db: Kysely<Database>) {
  return {
    /** Appends one event to the chain and returns it as stored. */
    async record(input: AuditEventInput): Promise<AuditEvent> {
      return db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${APPEND_LOCK_KEY})`.execute(trx);
        return append(trx, input, await head(trx));
      });
    },

    /**
     * Appends an `audit.checkpoint` event whose details are `build(head)`: the head signed
     * (audit/checkpoint.ts). Under the append lock, so the head signed is the event right before
     * it, on every replica. Nothing is appended when the head is itself a checkpoint (nothing new
     * since) or the chain is empty.
     */
    async appendCheckpoint<C extends Record<string, unknown>>(
      build: (head: { seq: number; hash: string }) => C,
    ): Promise<{ event: AuditEvent; checkpoint: C } | undefined> {
      return db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${APPEND_LOCK_KEY})`.execute(trx);
        const last = await head(trx);
        if (!last || last.action === CHECKPOINT_ACTION) return undefined;
        const checkpoint = build({ seq: last.seq, hash: last.hash });
        const input: AuditEventInput = {
          actorId: null,
          actorEmail: null,
          actorKind: 'system',
          action: CHECKPOINT_ACTION,
          targetType: 'audit',
          targetId: String(last.seq),
          sourceAddress: null,
          projectId: null,
          details: checkpoint,
        };
        return { event: await append(trx, input, last), checkpoint };
      });
    },

    async list(filter: AuditFilter): Promise<AuditEvent[]> {
      let query = db.selectFrom('audit_events').selectAll().orderBy('seq').limit(filter.limit);
      if (filter.projectIds !== undefined) {
        if (filter.projectIds.length === 0) return [];
        query = query.where('project_id', 'in', filter.projectIds);
      }
      if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
      if (filter.actor !== undefined) {
        const actor = filter.actor;
        query = query.where((eb) => eb.or([eb('actor_id', '=', actor), eb('actor_email', '=', actor.toLowerCase())]));
      }
      if (filter.action !== undefined) {
        query = filter.action.endsWith('*')
          ? query.where('action', 'like', `${filter.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
          : query.where('action', '=', filter.action);
      }
      if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
      if (filter.to !== undefined) query = query.where('at', '<', filter.to);
      if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
      if (filter.after !== undefined) query = query.where('seq', '>', filter.after);
      return (await query.execute()).map(toEvent);
    },

    /** The whole chain in order, a page at a time (verification). */
    async *scan(pageSize = 1000): AsyncGenerator<AuditEvent & { storedHash: string }> {
      let after = 0;
      for (;;) {
        const rows = await db.selectFrom('audit_events').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
        for (const row of rows) yield { ...toEvent(row), storedHash: row.hash };
        if (rows.length < pageSize) return;
        after = toNumber(rows[rows.length - 1].seq);
      }
    },

    async lastSeq(): Promise<number> {
      const row = await db.selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return row ? toNumber(row.seq) : 0;
    },
  };
}

function toEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: String(row.id),
    seq: toNumber(row.seq),
    at: row.at.toISOString(),
    actor: { kind: row.actor_kind as ActorKind, userId: row.actor_id, email: row.actor_email },
    action: row.action,
    target: { kind: row.target_type, id: row.target_id, name: row.target_name },
    projectId: row.project_id,
    sourceAddress: row.source_address,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
