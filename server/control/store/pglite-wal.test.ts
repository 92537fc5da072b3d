import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryBytes } from './database.ts';
import { openStore, type Store } from './store.ts';

const MB = 1024 * 1024;

describe('the PGlite store: pg_wal within its limit (issue 9 item 2), memory settings (issue 15)', () => {
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-wal-'));
    store = await openStore({ kind: 'pglite', dataDir: dir, wal: { checkpointBytes: 32 * MB, checkIntervalMs: 250 } });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('checkpoints by itself: far more WAL is written than pg_wal ever holds', async () => {
    const walDir = join(dir, 'pgdata', 'pg_wal');
    const lsn = async () => (await sql<{ n: string }>`select (pg_current_wal_lsn() - '0/0'::pg_lsn)::text as n`.execute(store.db)).rows[0].n;
    const start = BigInt((await lsn()).split('.')[0]);
    let largest = 0;
    let seq = 0;
    const sessionId = 'wal-test';
    while (BigInt((await lsn()).split('.')[0]) - start < BigInt(160 * MB)) {
      const at = new Date().toISOString();
      await store.sessionEvents.insert(
        'gw',
        Array.from({ length: 2000 }, () => ({ seq: ++seq, sessionId, connectionId: 'c', at, type: 'statement', sql: `select ${'x'.repeat(200)} -- ${seq}` })),
      );
      largest = Math.max(largest, await directoryBytes(walDir));
      await new Promise((r) => setTimeout(r, 20));
    }
    // Without a checkpoint PGlite keeps all 160 MB; with them, the checkpoint threshold plus
    // the segments PostgreSQL recycles (min_wal_size, 80 MB until the next start).
    expect(largest).toBeLessThan(128 * MB);
    // The settings for the next start are in place.
    const settings = await sql<{
      name: string;
      setting: string;
    }>`select name, setting from pg_file_settings where name in ('min_wal_size', 'max_wal_size')`.execute(store.db);
    expect(Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]))).toEqual({ min_wal_size: '32MB', max_wal_size: '64MB' });
  }, 180_000);

  it('starts with a small shared_buffers (PGlite keeps it in a WebAssembly heap that never shrinks)', async () => {
    const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(store.db);
    expect(rows[0].shared_buffers).toBe('16MB');
  });
});
