/**
 * Migration: retention may delete the oldest audit rows, and only retention: the append-only
 * trigger lets a DELETE through when the transaction set `gatehouse.audit_retention = 'on'`
 * (server/control/retention.ts does, after exporting the rows to JSON lines). UPDATE and
 * TRUNCATE stay refused. Registered in migrations/index.ts; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const retentionMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`create or replace function audit_events_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_setting('gatehouse.audit_retention', true) = 'on' then
          return old;
        end if;
        raise exception 'audit_events is append-only';
      end;
    $$`.execute(db);
  },
};
