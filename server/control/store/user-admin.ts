/** Admin-side user queries: listing, updating (disable, rename, admin flag) and deletion. */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { User } from './users.ts';

export type UserAdminRepo = ReturnType<typeof createUserAdminRepo>;

export function createUserAdminRepo(db: Kysely<Database>) {
  return {
    async list(): Promise<User[]> {
      const rows = await db.selectFrom('users').select(['id', 'email', 'name', 'is_admin', 'disabled', 'created_at']).orderBy('email').execute();
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
