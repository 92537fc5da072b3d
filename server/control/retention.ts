/**
 * Retention: keeps the store bounded.
 *
 * - Session events: the events of sessions over (ended, revoked or expired) more than
 *   `sessionEventDays` ago are deleted, a batch at a time (short transactions: PGlite is one
 *   backend shared by every request).
 * - Audit: rows older than `auditDays` are first exported, then deleted, always as a prefix of
 *   the chain (oldest seq first, no hole). Each batch goes to
 *   `<auditExportDir>/audit-<firstSeq>-<lastSeq>.jsonl` (12-digit zero-padded, so the names
 *   sort in chain order): one audit event per line, exactly as the audit API returns it
 *   (`ChainedEvent`: the hashed body plus `hash`). Chained in seq order from the genesis hash,
 *   the export files followed by the rows still stored verify end to end; the store remembers
 *   the last deleted event (`audit.pruned_through` in settings: `{ seq, hash, file }`) so the
 *   remaining chain verifies on its own from there. The newest row is never deleted: the next
 *   append chains onto it. Files are written (fsync + rename) before
 *   the rows go; a crash in between leaves the rows and a file that the next run rewrites.
 *
 * With several replicas, each batch takes a transaction-scoped advisory lock, so only one
 * replica prunes at a time; point `auditExportDir` at storage every replica shares (or
 * enable audit retention on one replica only) so the export stays in one place.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { AuditEvent } from './store/audit-events.ts';
import type { Store } from './store/store.ts';

const log = createLogger('control.retention');

const DAY_MS = 86_400_000;
const RETENTION_LOCK_KEY = 0x7265_7465; // 'rete'
export const PRUNED_THROUGH_KEY = 'audit.pruned_through';

export interface RetentionOptions {
  /** Keep session events this many days after their session is over; undefined keeps them. */
  sessionEventDays?: number;
  /** Keep audit rows this many days (exported before deletion); undefined keeps them. */
  auditDays?: number;
  /** Where audit rows are exported before they are deleted. */
  auditExportDir: string;
  /** How often retention runs. Default 1 h (the first run a minute after start). */
  intervalMs?: number;
  /** Rows per transaction. Default 5,000. */
  batchSize?: number;
  now?: () => Date;
}

export interface PrunedThrough {
  seq: number;
  hash: string;
  file: string;
}

export interface RetentionResult {
  sessionEventsDeleted: number;
  sessionsPruned: number;
  auditExported: number;
  auditFiles: string[];
}

export class Retention {
  readonly #store: Store;
  readonly #o: Required<Omit<RetentionOptions, 'sessionEventDays' | 'auditDays'>> & Pick<RetentionOptions, 'sessionEventDays' | 'auditDays'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionResult> | undefined;
  #stopped = false;

  constructor(store: Store, options: RetentionOptions) {
    this.#store = store;
    this.#o = { intervalMs: 3_600_000, batchSize: 5000, now: () => new Date(), ...options };
  }

  get enabled(): boolean {
    return this.#o.sessionEventDays !== undefined || this.#o.auditDays !== undefined;
  }

  start(firstRunMs = 60_000): void {
    if (!this.enabled || this.#timer) return;
    const schedule = (ms: number) => {
      this.#timer = setTimeout(() => {
        void this.runOnce()
          .catch((err: unknown) => log.error({ err }, 'retention run failed; it runs again later'))
          .finally(() => {
            if (!this.#stopped) schedule(this.#o.intervalMs);
          });
      }, ms);
      this.#timer.unref();
    };
    schedule(firstRunMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One pass over both; concurrent calls share the pass. */
  runOnce(): Promise<RetentionResult> {
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #run(): Promise<RetentionResult> {
    const result: RetentionResult = { sessionEventsDeleted: 0, sessionsPruned: 0, auditExported: 0, auditFiles: [] };
    const now = this.#o.now().getTime();
    if (this.#o.sessionEventDays !== undefined) await this.#pruneSessionEvents(new Date(now - this.#o.sessionEventDays * DAY_MS), result);
    if (this.#o.auditDays !== undefined) await this.#pruneAudit(new Date(now - this.#o.auditDays * DAY_MS), result);
    if (result.sessionEventsDeleted > 0 || result.auditExported > 0) log.info(result, 'retention removed old rows');
    return result;
  }

  async #pruneSessionEvents(cutoff: Date, result: RetentionResult): Promise<void> {
    const events = this.#store.sessionEvents;
    for (;;) {
      if (this.#stopped) return;
      const sessions = await events.sessionsOverBefore(cutoff, 100);
      if (sessions.length === 0) return;
      for (const sessionId of sessions) {
        for (;;) {
          if (this.#stopped) return;
          const deleted = await events.deleteSessionBatch(sessionId, this.#o.batchSize);
          result.sessionEventsDeleted += deleted;
          if (deleted < this.#o.batchSize) break;
        }
        result.sessionsPruned += 1;
      }
    }
  }

  async #pruneAudit(cutoff: Date, result: RetentionResult): Promise<void> {
    await mkdir(this.#o.auditExportDir, { recursive: true, mode: 0o700 });
    for (;;) {
      if (this.#stopped) return;
      const through = await readPrunedThrough(this.#store);
      const after = through?.seq ?? 0;
      const rows = await this.#store.auditEvents.list({ after, to: cutoff, limit: this.#o.batchSize });
      // The newest row always stays: the next append chains onto it.
      const newest = await this.#store.auditEvents.lastSeq();
      // Only a prefix of the chain: stop at the first row that does not follow the one before.
      const batch: AuditEvent[] = [];
      for (const row of rows) {
        if (row.seq !== after + batch.length + 1 || row.seq >= newest) break;
        batch.push(row);
      }
      if (batch.length === 0) return;
      const first = batch[0].seq;
      const last = batch[batch.length - 1];
      const file = join(this.#o.auditExportDir, `audit-${pad(first)}-${pad(last.seq)}.jsonl`);
      await writeDurably(file, batch.map((e) => `${JSON.stringify(e)}\n`).join(''));
      const deleted = await this.#store.db.transaction().execute(async (trx) => {
        const locked = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY}) as ok`.execute(trx);
        if (!locked.rows[0]?.ok) return false;
        const current = await trx.selectFrom('settings').select('value').where('key', '=', PRUNED_THROUGH_KEY).forUpdate().executeTakeFirst();
        if ((current ? (JSON.parse(current.value) as PrunedThrough).seq : 0) !== after) return false; // another replica moved on
        await sql`select set_config('gatehouse.audit_retention', 'on', true)`.execute(trx);
        await trx.deleteFrom('audit_events').where('seq', '>', after).where('seq', '<=', last.seq).execute();
        const value = JSON.stringify({ seq: last.seq, hash: last.hash, file } satisfies PrunedThrough);
        await trx
          .insertInto('settings')
          .values({ key: PRUNED_THROUGH_KEY, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
        return true;
      });
      if (!deleted) {
        log.info({ first, last: last.seq }, 'another replica is pruning the audit log; leaving it to that one');
        return;
      }
      result.auditExported += batch.length;
      result.auditFiles.push(file);
    }
  }
}

/** Where the stored audit chain starts after retention (undefined: at the genesis). */
export async function readPrunedThrough(store: Store): Promise<PrunedThrough | undefined> {
  const value = await store.settings.get(PRUNED_THROUGH_KEY);
  return value === undefined ? undefined : (JSON.parse(value) as PrunedThrough);
}

function pad(seq: number): string {
  return String(seq).padStart(12, '0');
}

async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
