/**
 * Migration 0009: credential rotation and credential health (issue 13).
 *
 * - `resource_rotation_accounts`: a resource's optional rotation account (a role that may
 *   ALTER the accounts' roles); its password SecretBox-sealed, AAD `resource:<id>:rotation-password`.
 * - `account_credentials`: one row per account: rotation settings and status, the *pending*
 *   password (sealed exactly like the current one, AAD `account:<id>:password`, so making it
 *   current is a copy), the scheduler's lease (exactly one replica works on an account at a
 *   time), and the last credential health check.
 *
 * Registered in migrations/index.ts as `0009_credential_rotation`; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const credentialRotationMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const now = sql`now()`;
    await db.schema
      .createTable('resource_rotation_accounts')
      .addColumn('resource_id', 'text', (c) => c.primaryKey().references('resources.id').onDelete('cascade'))
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('password_sealed', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .execute();
    await db.schema
      .createTable('account_credentials')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
      .addColumn('rotation_enabled', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('rotation_interval_days', 'integer', (c) => c.notNull().defaultTo(30))
      .addColumn('pending_password_sealed', 'text')
      .addColumn('pending_since', 'timestamptz')
      .addColumn('last_rotated_at', 'timestamptz')
      .addColumn('next_rotation_at', 'timestamptz')
      .addColumn('last_result', 'text')
      .addColumn('last_attempt_at', 'timestamptz')
      .addColumn('last_error_code', 'text')
      .addColumn('last_error', 'text')
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'timestamptz')
      .addColumn('health_status', 'text', (c) => c.notNull().defaultTo('unknown'))
      .addColumn('health_code', 'text')
      .addColumn('health_error', 'text')
      .addColumn('health_checked_at', 'timestamptz')
      .addColumn('health_next_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('account_credentials_next_rotation').on('account_credentials').column('next_rotation_at').execute();
    await sql`insert into account_credentials (account_id) select id from accounts`.execute(db);
  },
};
