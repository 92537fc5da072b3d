/**
 * Opens the store's database: PGlite in `<dataDir>/pgdata` by default, PostgreSQL when a
 * connection string is given. Both speak the same SQL; the schema and migrations are shared.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { KyselyPGlite } from 'kysely-pglite';
import pg from 'pg';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { Database } from './schema.ts';
import { migrationProvider } from './migrations/index.ts';

const log = createLogger('control.store.database');

export type DatabaseTarget = { kind: 'pglite'; dataDir?: string; wal?: PgliteWalOptions } | { kind: 'postgres'; connectionString: string };

/**
 * PGlite runs PostgreSQL as a single-user backend: there is no checkpointer, so `max_wal_size`
 * never triggers a checkpoint and `pg_wal` grows until the next CHECKPOINT (1 GB+ per
 * 700,000 recorded statements before this). The store checkpoints itself once `pg_wal` passes
 * `checkpointBytes`, and keeps few recycled segments (`min_wal_size`, `max_wal_size` below).
 */
export interface PgliteWalOptions {
  /** CHECKPOINT once pg_wal is larger than this. Default 64 MiB. */
  checkpointBytes?: number;
  /** How often pg_wal's size is checked. Default 10 s. */
  checkIntervalMs?: number;
}

const MIB = 1024 * 1024;
export const PGLITE_WAL_DEFAULTS: Required<PgliteWalOptions> = { checkpointBytes: 64 * MIB, checkIntervalMs: 10_000 };
/**
 * Given at every start. PGlite keeps PostgreSQL's default shared_buffers (128 MB) inside its
 * WebAssembly heap, which never shrinks: with it the control plane's process sat at 420–450 MB
 * during the benchmarks. 16 MB holds the store's hot pages (the OS page cache holds the rest);
 * measured on a reopened store with 200,000 session events written and paged: 420–467 → ~300 MB
 * RSS, no slower.
 */
const PGLITE_START_SETTINGS: Record<string, string> = { shared_buffers: '16MB' };
const PGLITE_OPTIONS = {
  startParams: [...PGlite.defaultStartParams, ...Object.entries(PGLITE_START_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
};
/** Written with ALTER SYSTEM (postgresql.auto.conf in the data dir); they apply from the next start (no restart just for them). */
const PGLITE_SETTINGS: Record<string, string> = { min_wal_size: '32MB', max_wal_size: '64MB', wal_compression: 'on' };

export async function openDatabase(target: DatabaseTarget): Promise<Kysely<Database>> {
  const dialect = target.kind === 'postgres' ? postgresDialect(target.connectionString) : await pgliteDialect(target.dataDir, target.wal);
  const db = new Kysely<Database>({ dialect });
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
  return db;
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error } = await migrator.migrateToLatest();
  if (error)
    throw new GatehouseError(ErrorCodes.INTERNAL, `store migration failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`, {
      cause: error,
    });
}

function postgresDialect(connectionString: string): Dialect {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // An idle pooled connection that the server ends (restart, failover, pg_terminate_backend)
  // is an 'error' on the pool; without a listener it is an uncaught exception that takes the
  // whole control plane down. The pool drops that connection and the next query opens another.
  pool.on('error', (err) =>
    log.warn({ err: err.message, code: (err as { code?: string }).code }, 'an idle store connection was closed by the database; it will be replaced'),
  );
  return new PostgresDialect({ pool });
}

async function pgliteDialect(dataDir: string | undefined, wal: PgliteWalOptions = {}): Promise<Dialect> {
  if (dataDir === undefined) return serialized((await KyselyPGlite.create(PGLITE_OPTIONS)).dialect);
  const path = join(dataDir, 'pgdata');
  await mkdir(path, { recursive: true, mode: 0o700 });
  const pglite = await KyselyPGlite.create(path, PGLITE_OPTIONS);
  // From the next start; until then the checkpoints below keep pg_wal bounded anyway.
  await applySettings(pglite.client);
  return serialized(pglite.dialect, { walDir: join(path, 'pg_wal'), ...PGLITE_WAL_DEFAULTS, ...stripUndefined(wal) });
}

/** Writes PGLITE_SETTINGS that differ from the running ones; true when it wrote any. */
async function applySettings(client: {
  query: <T>(q: string, params?: unknown[]) => Promise<{ rows: T[] }>;
  exec: (q: string) => Promise<unknown>;
}): Promise<boolean> {
  const names = Object.keys(PGLITE_SETTINGS);
  const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
    'select name, setting, unit from pg_settings where name = any($1)',
    [names],
  );
  let changed = false;
  for (const name of names) {
    const row = rows.find((r) => r.name === name);
    const want = PGLITE_SETTINGS[name];
    const have = row ? `${row.setting}${row.unit === 'MB' ? 'MB' : ''}` : undefined;
    if (have === want || (name === 'wal_compression' && row?.setting !== 'off')) continue;
    await client.exec(`alter system set ${name} = '${want}'`);
    changed = true;
  }
  return changed;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface WalKeeping {
  walDir: string;
  checkpointBytes: number;
  checkIntervalMs: number;
}

/**
 * PGlite is one backend shared by every query, so kysely's "connections" would interleave
 * inside each other's transactions. This hands out the connection to one user at a time.
 */
function serialized(dialect: Dialect, wal?: WalKeeping): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new SerializedDriver(dialect.createDriver(), wal),
  };
}

/** Bytes in the files of `dir` (pg_wal holds only segment files and a small archive_status dir). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(dir, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** PGlite reports `affectedRows`; kysely reads `numAffectedRows`. */
function withAffectedRows<R>(result: QueryResult<R>): QueryResult<R> {
  const affected = (result as { affectedRows?: unknown }).affectedRows;
  if (result.numAffectedRows === undefined && typeof affected === 'number') return { ...result, numAffectedRows: BigInt(affected) };
  return result;
}

class SerializedDriver implements Driver {
  readonly #inner: Driver;
  readonly #wal: WalKeeping | undefined;
  #walTimer: NodeJS.Timeout | undefined;
  #checking = false;
  #tail: Promise<void> = Promise.resolve();
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();

  constructor(inner: Driver, wal?: WalKeeping) {
    this.#inner = inner;
    this.#wal = wal;
  }

  async init(): Promise<void> {
    await this.#inner.init();
    if (this.#wal) {
      this.#walTimer = setInterval(() => void this.#checkpointIfNeeded(), this.#wal.checkIntervalMs);
      this.#walTimer.unref();
    }
  }

  /** CHECKPOINT (in its turn, between transactions) once pg_wal passed its limit. */
  async #checkpointIfNeeded(): Promise<void> {
    const wal = this.#wal;
    if (!wal || this.#checking) return;
    this.#checking = true;
    try {
      const before = await directoryBytes(wal.walDir);
      if (before <= wal.checkpointBytes) return;
      const started = Date.now();
      const connection = await this.acquireConnection();
      try {
        await connection.executeQuery(CompiledQuery.raw('checkpoint'));
      } finally {
        await this.releaseConnection(connection);
      }
      const after = await directoryBytes(wal.walDir);
      log.info({ walBytesBefore: before, walBytesAfter: after, ms: Date.now() - started }, 'checkpointed the embedded store (pg_wal over its limit)');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'checkpoint of the embedded store failed');
    } finally {
      this.#checking = false;
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => turn);
    await previous;
    const connection = await this.#inner.acquireConnection();
    // One wrapper per turn so that release is matched to this acquisition.
    const wrapper: DatabaseConnection = {
      executeQuery: async (q) => withAffectedRows(await connection.executeQuery(q)),
      streamQuery: (q, size) => connection.streamQuery(q, size),
    };
    this.#releases.set(wrapper, () => {
      void this.#inner.releaseConnection(connection);
      release();
    });
    return wrapper;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#releases.get(connection)?.();
    this.#releases.delete(connection);
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    if (this.#walTimer) clearInterval(this.#walTimer);
    await this.#tail;
    await this.#inner.destroy();
  }
}
