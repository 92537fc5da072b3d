/**
 * Migration 0006 (issue 10 items 1 and 2):
 * - `gateway_link_challenges`: single-use nonces a gateway signs to open its link. One row per
 *   challenge, deleted when used, so a replayed signature finds nothing (on every replica
 *   that shares the store).
 * - `resources.allow_md5` / `resources.allow_cleartext`: the weaker PostgreSQL password
 *   methods the gateway may answer for this resource (SCRAM always); off unless an instance
 *   admin turns them on.
 * - `accounts.password_sealed` may be NULL: a resource's target changed and the password must
 *   be entered again before it is sent anywhere.
 * Registered in migrations/index.ts; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const linkSecurityMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('gateway_link_challenges')
      .addColumn('nonce_hash', 'text', (c) => c.primaryKey())
      .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id').onDelete('cascade'))
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('gateway_link_challenges_gateway').on('gateway_link_challenges').columns(['gateway_id', 'created_at']).execute();
    await db.schema
      .alterTable('resources')
      .addColumn('allow_md5', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute();
    await db.schema
      .alterTable('resources')
      .addColumn('allow_cleartext', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute();
    await db.schema
      .alterTable('accounts')
      .alterColumn('password_sealed', (c) => c.dropNotNull())
      .execute();
  },
};
