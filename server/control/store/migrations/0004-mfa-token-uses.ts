/**
 * Migration: MFA tokens are single-use. A sign-in's mfaToken (docs/api.md) is recorded here by
 * its jti when it completes a sign-in, and refused after that. Rows can go once `expires_at`
 * has passed (the token is refused then anyway). Registered in migrations/index.ts; never edit once
 * shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const mfaTokenUsesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('mfa_token_uses')
      .addColumn('jti', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('used_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
};
