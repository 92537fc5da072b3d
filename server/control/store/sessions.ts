import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { likeContains, type TimeIdCursor } from './keyset.ts';
import type { Database, SessionKind, SessionStatus, SessionsTable } from './schema.ts';

export interface SessionRecord {
  id: string;
  projectId: string;
  userId: string;
  userEmail: string;
  resourceId: string;
  resourceName: string;
  database: string;
  accountId: string;
  accountName: string;
  username: string;
  gatewayId: string;
  /** 'proxy': a local proxy (desktop app, CLI); 'web': Web Access in the browser. */
  kind: SessionKind;
  status: SessionStatus;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export type SessionsRepo = ReturnType<typeof createSessionsRepo>;

/** One page of the sessions a caller may see, newest first (see `page`). */
export interface SessionPageFilter {
  /** Who may see what: their own sessions plus those of `projectIds` (undefined: every project). */
  visibleTo: { userId: string; projectIds: string[] | undefined };
  projectId?: string;
  /** A user id, or part of the user's email (case-insensitive). */
  user?: string;
  /** A resource id, or part of its name. */
  resource?: string;
  /** An account id, or part of its name. */
  account?: string;
  /** As shown: an `active` session past its expiry counts as `expired`. */
  status?: SessionStatus;
  kind?: SessionKind;
  after?: TimeIdCursor;
  limit: number;
  now: Date;
}

type SessionsEb = ExpressionBuilder<Database, 'sessions'>;

/** `id` equal, or `text` containing the needle (case-insensitive). */
function idOrText(
  eb: SessionsEb,
  idColumn: 'user_id' | 'resource_id' | 'account_id',
  textColumn: 'user_email' | 'resource_name' | 'account_name',
  needle: string,
) {
  return eb.or([eb(idColumn, '=', needle), eb(textColumn, 'ilike', likeContains(needle))]);
}

export function createSessionsRepo(db: Kysely<Database>) {
  return {
    async create(input: Omit<SessionRecord, 'status' | 'createdAt' | 'endedAt' | 'kind'> & { kind?: SessionKind }, now: Date): Promise<SessionRecord> {
      const row = await db
        .insertInto('sessions')
        .values({
          id: input.id,
          project_id: input.projectId,
          user_id: input.userId,
          user_email: input.userEmail,
          resource_id: input.resourceId,
          resource_name: input.resourceName,
          database: input.database,
          account_id: input.accountId,
          account_name: input.accountName,
          username: input.username,
          gateway_id: input.gatewayId,
          kind: input.kind ?? 'proxy',
          status: 'active',
          created_at: now,
          expires_at: input.expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSession(row);
    },
    async findById(id: string): Promise<SessionRecord | undefined> {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toSession(row);
    },
    async list(filter: {
      userId?: string;
      projectIds?: string[];
      projectId?: string;
      resourceId?: string;
      accountId?: string;
      status?: SessionStatus;
      limit: number;
    }): Promise<SessionRecord[]> {
      let query = db.selectFrom('sessions').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit);
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.resourceId !== undefined) query = query.where('resource_id', '=', filter.resourceId);
      if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
      if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
      if (filter.projectIds !== undefined) {
        if (filter.projectIds.length === 0) return [];
        query = query.where('project_id', 'in', filter.projectIds);
      }
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      return (await query.execute()).map(toSession);
    },
    /**
     * Keyset page over (created_at desc, id desc): rows after `filter.after`, at most `limit`.
     * Sessions created while someone pages sort before the cursor, so later pages neither
     * repeat nor skip a row.
     */
    async page(filter: SessionPageFilter): Promise<SessionRecord[]> {
      const { visibleTo, now } = filter;
      let query = db.selectFrom('sessions').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit);
      const scope = visibleTo.projectIds;
      if (scope !== undefined) {
        query = query.where((eb) =>
          scope.length === 0 ? eb('user_id', '=', visibleTo.userId) : eb.or([eb('user_id', '=', visibleTo.userId), eb('project_id', 'in', scope)]),
        );
      }
      if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
      const { user, resource, account, after } = filter;
      if (user !== undefined) query = query.where((eb) => idOrText(eb, 'user_id', 'user_email', user));
      if (resource !== undefined) query = query.where((eb) => idOrText(eb, 'resource_id', 'resource_name', resource));
      if (account !== undefined) query = query.where((eb) => idOrText(eb, 'account_id', 'account_name', account));
      if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
      if (filter.status === 'active') query = query.where('status', '=', 'active').where('expires_at', '>', now);
      else if (filter.status === 'expired')
        query = query.where((eb) => eb.or([eb('status', '=', 'expired'), eb.and([eb('status', '=', 'active'), eb('expires_at', '<=', now)])]));
      else if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (after !== undefined) {
        query = query.where((eb) => eb.or([eb('created_at', '<', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)])]));
      }
      return (await query.execute()).map(toSession);
    },
    /** Ends an active session; undefined if it was not active any more (someone else won). */
    async finish(id: string, status: Exclude<SessionStatus, 'active'>, now: Date): Promise<SessionRecord | undefined> {
      const row = await db
        .updateTable('sessions')
        .set({ status, ended_at: now })
        .where('id', '=', id)
        .where('status', '=', 'active')
        .returningAll()
        .executeTakeFirst();
      return row && toSession(row);
    },
    /** A later expiry for an active session that has not expired yet; undefined otherwise. */
    async extend(id: string, expiresAt: Date, now: Date): Promise<SessionRecord | undefined> {
      const row = await db
        .updateTable('sessions')
        .set({ expires_at: expiresAt })
        .where('id', '=', id)
        .where('status', '=', 'active')
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst();
      return row && toSession(row);
    },
    /** Marks every active session past its expiry as expired; returns them. */
    async expireDue(now: Date): Promise<SessionRecord[]> {
      const rows = await db
        .updateTable('sessions')
        .set({ status: 'expired', ended_at: now })
        .where('status', '=', 'active')
        .where('expires_at', '<=', now)
        .returningAll()
        .execute();
      return rows.map(toSession);
    },
    /** Live (active, not past expiry) sessions of a user of one kind (the per-user Web Access limit). */
    async countLive(userId: string, kind: SessionKind, now: Date): Promise<number> {
      const row = await db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .where('status', '=', 'active')
        .where('expires_at', '>', now)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async countActive(now: Date): Promise<number> {
      const row = await db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('status', '=', 'active')
        .where('expires_at', '>', now)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** Of these session ids, the ones that run through `gatewayId`. */
    async idsOnGateway(gatewayId: string, ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('sessions').select('id').where('gateway_id', '=', gatewayId).where('id', 'in', ids).execute();
      return new Set(rows.map((row) => row.id));
    },
  };
}

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    userId: row.user_id,
    userEmail: row.user_email,
    resourceId: row.resource_id,
    resourceName: row.resource_name,
    database: row.database,
    accountId: row.account_id,
    accountName: row.account_name,
    username: row.username,
    gatewayId: row.gateway_id,
    kind: row.kind,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
  };
}
