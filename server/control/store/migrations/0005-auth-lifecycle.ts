/**
 * Migration 0005: sign-in sessions (`auth_sessions`), the family every refresh and access token
 * belongs to, with the second factor that completed the sign-in. Existing refresh tokens each
 * become their own family with no second factor recorded (so an organization enforcing MFA
 * refuses them). Registered in migrations/index.ts; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const authLifecycleMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('auth_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('mfa_method', 'text')
      .addColumn('source_address', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('revoked_at', 'timestamptz')
      .addColumn('revoked_reason', 'text')
      .execute();
    await db.schema.createIndex('auth_sessions_user_idx').on('auth_sessions').column('user_id').execute();
    await db.schema
      .alterTable('refresh_tokens')
      .addColumn('session_id', 'text', (c) => c.references('auth_sessions.id').onDelete('cascade'))
      .execute();
    await sql`insert into auth_sessions (id, user_id, created_at, revoked_at, revoked_reason)
      select id, user_id, created_at, revoked_at, case when revoked_at is null then null else 'migrated' end from refresh_tokens`.execute(db);
    await sql`update refresh_tokens set session_id = id`.execute(db);
    await db.schema
      .alterTable('refresh_tokens')
      .alterColumn('session_id', (c) => c.setNotNull())
      .execute();
    await db.schema.createIndex('refresh_tokens_session_idx').on('refresh_tokens').column('session_id').execute();
  },
};
