/**
 * Migration 0010: Web Access (issue 12). Sessions get a `kind`: `proxy` (a local proxy of the
 * desktop app or the CLI, every session before this migration) or `web` (the control plane is
 * the PostgreSQL client for the browser's Data Explorer and SQL terminal). The SQL terminal's
 * per-user query history lives in `web_query_history`. Registered in migrations/index.ts as
 * '0010_web_sessions'; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const webSessionsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('sessions')
      .addColumn('kind', 'text', (c) =>
        c
          .notNull()
          .defaultTo('proxy')
          .check(sql`kind in ('proxy', 'web')`),
      )
      .execute();
    await db.schema
      .createTable('web_query_history')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('sql', 'text', (c) => c.notNull())
      .addColumn('ran_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('web_query_history_user_ran_at').on('web_query_history').columns(['user_id', 'ran_at']).execute();
  },
};
