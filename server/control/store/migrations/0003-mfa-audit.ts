/**
 * Migration for MFA (TOTP, recovery and email codes), sign-in throttling and the audit hash
 * chain. Existing audit rows are chained in id order, so an upgraded store verifies.
 * Registered in migrations/index.ts; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { eventHash, GENESIS_HASH, type ChainedEventBody } from '../audit-chain.ts';
import { redactDetails } from '../audit-redact.ts';

interface LegacyAuditRow {
  id: string | number;
  at: Date;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  source_address: string | null;
  details: Record<string, unknown>;
}

export const mfaAuditMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const now = sql`now()`;
    await db.schema
      .createTable('user_mfa')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('totp_secret_sealed', 'text')
      .addColumn('totp_pending_sealed', 'text')
      .addColumn('totp_enabled_at', 'timestamptz')
      .addColumn('totp_last_step', 'bigint')
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .execute();
    await db.schema
      .createTable('mfa_recovery_codes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('used_at', 'timestamptz')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .execute();
    await db.schema.createIndex('mfa_recovery_codes_user_idx').on('mfa_recovery_codes').columns(['user_id', 'code_hash']).execute();
    await db.schema
      .createTable('mfa_email_codes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('login', 'access')`))
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('used_at', 'timestamptz')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .execute();
    await db.schema.createIndex('mfa_email_codes_user_idx').on('mfa_email_codes').columns(['user_id', 'purpose', 'code_hash']).execute();
    await db.schema
      .createTable('auth_throttle')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'bigint', (c) => c.notNull())
      .addColumn('window_started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('locked_until', 'timestamptz')
      .execute();

    // The audit chain.
    await db.schema
      .alterTable('audit_events')
      .addColumn('seq', 'bigint')
      .addColumn('actor_kind', 'text')
      .addColumn('target_name', 'text')
      .addColumn('project_id', 'text')
      .addColumn('prev_hash', 'text')
      .addColumn('hash', 'text')
      .execute();
    const legacy =
      await sql<LegacyAuditRow>`select id, at, actor_id, actor_email, action, target_type, target_id, source_address, details from audit_events order by id`.execute(
        db,
      );
    let prevHash = GENESIS_HASH;
    let seq = 0;
    for (const row of legacy.rows) {
      seq += 1;
      const projectId = typeof row.details.projectId === 'string' ? row.details.projectId : null;
      const body: ChainedEventBody = {
        id: String(row.id),
        seq,
        at: new Date(row.at).toISOString(),
        actor: { kind: row.actor_id !== null || row.actor_email !== null ? 'user' : 'system', userId: row.actor_id, email: row.actor_email },
        action: row.action,
        target: { kind: row.target_type, id: row.target_id, name: null },
        projectId,
        sourceAddress: row.source_address,
        details: redactDetails(row.details),
        prevHash,
      };
      const hash = eventHash(body);
      // Store `at` truncated to milliseconds: exactly what was hashed.
      await sql`update audit_events set seq = ${seq}, at = ${body.at}::timestamptz, actor_kind = ${body.actor.kind}, project_id = ${projectId}, details = ${JSON.stringify(body.details)}::jsonb, prev_hash = ${prevHash}, hash = ${hash} where id = ${row.id}`.execute(
        db,
      );
      prevHash = hash;
    }
    for (const column of ['seq', 'actor_kind', 'prev_hash', 'hash']) {
      await db.schema
        .alterTable('audit_events')
        .alterColumn(column, (c) => c.setNotNull())
        .execute();
    }
    await db.schema.createIndex('audit_events_seq_unique').unique().on('audit_events').column('seq').execute();
    await db.schema.createIndex('audit_events_project_seq_idx').on('audit_events').columns(['project_id', 'seq']).execute();
    await db.schema.createIndex('audit_events_action_idx').on('audit_events').columns(['action', 'seq']).execute();

    // Append-only in the database too: no UPDATE, DELETE or TRUNCATE through ordinary use.
    await sql`create function audit_events_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_events is append-only';
      end;
    $$`.execute(db);
    await sql`create trigger audit_events_no_update before update or delete on audit_events for each row execute function audit_events_append_only()`.execute(
      db,
    );
    await sql`create trigger audit_events_no_truncate before truncate on audit_events for each statement execute function audit_events_append_only()`.execute(
      db,
    );
  },
};
