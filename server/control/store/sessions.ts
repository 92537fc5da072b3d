import type { Kysely, Selectable } from 'kysely';
import type { Database, SessionStatus, SessionsTable } from './schema.ts';

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
  status: SessionStatus;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export type SessionsRepo = ReturnType<typeof createSessionsRepo>;

export function createSessionsRepo(db: Kysely<Database>) {
  return {
    async create(input: Omit<SessionRecord, 'status' | 'createdAt' | 'endedAt'>, now: Date): Promise<SessionRecord> {
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
    async list(filter: { userId?: string; projectIds?: string[]; projectId?: string; resourceId?: string; accountId?: string; status?: SessionStatus; limit: number }): Promise<SessionRecord[]> {
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
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
  };
}
