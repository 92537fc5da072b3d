/**
 * The SQL terminal's per-user query history (Web Access, issue 12): the newest statements a
 * user ran, at most HISTORY_PER_USER of them (older ones are deleted as new ones come).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export const HISTORY_PER_USER = 500;

export interface QueryHistoryEntry {
  id: string;
  projectId: string;
  resourceId: string;
  accountId: string;
  sql: string;
  ranAt: Date;
}

export function createWebQueryHistoryRepo(db: Kysely<Database>) {
  return {
    async add(userId: string, entry: Omit<QueryHistoryEntry, 'id' | 'ranAt'>, now: Date): Promise<QueryHistoryEntry> {
      const id = randomUUID();
      await db
        .insertInto('web_query_history')
        .values({
          id,
          user_id: userId,
          project_id: entry.projectId,
          resource_id: entry.resourceId,
          account_id: entry.accountId,
          sql: entry.sql,
          ran_at: now,
        })
        .execute();
      const keep = db
        .selectFrom('web_query_history')
        .select('id')
        .where('user_id', '=', userId)
        .orderBy('ran_at', 'desc')
        .orderBy('id', 'desc')
        .limit(HISTORY_PER_USER);
      await db.deleteFrom('web_query_history').where('user_id', '=', userId).where('id', 'not in', keep).execute();
      return { id, ...entry, ranAt: now };
    },
    async list(userId: string, filter: { accountId?: string; limit: number }): Promise<QueryHistoryEntry[]> {
      let query = db
        .selectFrom('web_query_history')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('ran_at', 'desc')
        .orderBy('id', 'desc')
        .limit(filter.limit);
      if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
      const rows = await query.execute();
      return rows.map((r) => ({
        id: r.id,
        projectId: r.project_id,
        resourceId: r.resource_id,
        accountId: r.account_id,
        sql: r.sql,
        ranAt: r.ran_at,
      }));
    },
  };
}
