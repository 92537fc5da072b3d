/** Admin-side user queries: listing, updating (disable, rename, admin flag) and deletion. */
import { sql, type Kysely } from 'kysely';
import { likeContains, type TextCursor } from './keyset.ts';
import type { Database } from './schema.ts';
import type { User } from './users.ts';

/** Filters and position of a page of users, sorted by email. */
export interface UserPageFilter {
  /** Part of the email or name (case-insensitive). */
  q?: string;
  isAdmin?: boolean;
  disabled?: boolean;
  after?: TextCursor;
  limit: number;
}

export type UserAdminRepo = ReturnType<typeof createUserAdminRepo>;

export function createUserAdminRepo(db: Kysely<Database>) {
  return {
    /** Keyset page by email (unique): users after `after`, at most `limit`. */
    async page(filter: UserPageFilter): Promise<User[]> {
      let query = db.selectFrom('users').select(['id', 'email', 'name', 'is_admin', 'disabled', 'created_at']).orderBy('email').limit(filter.limit);
      const { q, after } = filter;
      if (q !== undefined) query = query.where((eb) => eb.or([eb('email', 'ilike', likeContains(q)), eb('name', 'ilike', likeContains(q))]));
      if (filter.isAdmin !== undefined) query = query.where('is_admin', '=', filter.isAdmin);
      if (filter.disabled !== undefined) query = query.where('disabled', '=', filter.disabled);
      if (after !== undefined) query = query.where('email', '>', after.key);
      const rows = await query.execute();
      return rows.map((row) => ({ id: row.id, email: row.email, name: row.name, isAdmin: row.is_admin, disabled: row.disabled, createdAt: row.created_at }));
    },
    async update(id: string, patch: { name?: string; isAdmin?: boolean; disabled?: boolean }): Promise<User | undefined> {
      const row = await db
        .updateTable('users')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.isAdmin !== undefined && { is_admin: patch.isAdmin }),
          ...(patch.disabled !== undefined && { disabled: patch.disabled }),
        })
        .where('id', '=', id)
        .returning(['id', 'email', 'name', 'is_admin', 'disabled', 'created_at'])
        .executeTakeFirst();
      return row && { id: row.id, email: row.email, name: row.name, isAdmin: row.is_admin, disabled: row.disabled, createdAt: row.created_at };
    },
    /** Deletes the user; memberships, group memberships and refresh tokens go with it (FK cascade). */
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** Users with a confirmed TOTP factor (the MFA tables may come from a later migration). */
    async withTotp(): Promise<Set<string>> {
      const exists = await sql<{ t: string | null }>`select to_regclass('user_mfa')::text as t`.execute(db);
      if (!exists.rows[0]?.t) return new Set();
      const rows = await sql<{ user_id: string }>`select user_id from user_mfa where totp_secret_sealed is not null`.execute(db);
      return new Set(rows.rows.map((r) => r.user_id));
    },
  };
}
