/**
 * Migration 0007: control plane replicas on one PostgreSQL (docs/architecture.md, "Running
 * several replicas"). Each replica announces itself in `control_replicas` and beats a
 * heartbeat; `gateway_links` says which replica holds a live link of which gateway, so that
 * `gateways.connected` is true cluster-wide while any replica holds one. Registered in
 * migrations/index.ts; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const clusterMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const now = sql`now()`;
    await db.schema
      .createTable('control_replicas')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('advertise_url', 'text', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .execute();
    await db.schema
      .createTable('gateway_links')
      .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id').onDelete('cascade'))
      .addColumn('replica_id', 'text', (c) => c.notNull())
      .addColumn('connected_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addPrimaryKeyConstraint('gateway_links_pk', ['gateway_id', 'replica_id'])
      .execute();
  },
};
