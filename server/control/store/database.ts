/**
 * Opens the store's database: PGlite in `<dataDir>/pgdata` by default, PostgreSQL when a
 * connection string is given. Both speak the same SQL; the schema and migrations are shared.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kysely, Migrator, PostgresDialect, type DatabaseConnection, type Dialect, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import { KyselyPGlite } from 'kysely-pglite';
import pg from 'pg';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { Database } from './schema.ts';
import { migrationProvider } from './migrations.ts';

export type DatabaseTarget = { kind: 'pglite'; dataDir?: string } | { kind: 'postgres'; connectionString: string };

export async function openDatabase(target: DatabaseTarget): Promise<Kysely<Database>> {
  const dialect = target.kind === 'postgres' ? postgresDialect(target.connectionString) : await pgliteDialect(target.dataDir);
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
  if (error) throw new GatehouseError(ErrorCodes.INTERNAL, `store migration failed: ${String(error)}`, { cause: error });
}

function postgresDialect(connectionString: string): Dialect {
  return new PostgresDialect({ pool: new pg.Pool({ connectionString, max: 10 }) });
}

async function pgliteDialect(dataDir: string | undefined): Promise<Dialect> {
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = join(dataDir, 'pgdata');
    await mkdir(path, { recursive: true, mode: 0o700 });
  }
  const { dialect } = await KyselyPGlite.create(path);
  return serialized(dialect);
}

/**
 * PGlite is one backend shared by every query, so kysely's "connections" would interleave
 * inside each other's transactions. This hands out the connection to one user at a time.
 */
function serialized(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new SerializedDriver(dialect.createDriver()),
  };
}

/** PGlite reports `affectedRows`; kysely reads `numAffectedRows`. */
function withAffectedRows<R>(result: QueryResult<R>): QueryResult<R> {
  const affected = (result as { affectedRows?: unknown }).affectedRows;
  if (result.numAffectedRows === undefined && typeof affected === 'number') return { ...result, numAffectedRows: BigInt(affected) };
  return result;
}

class SerializedDriver implements Driver {
  readonly #inner: Driver;
  #tail: Promise<void> = Promise.resolve();
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
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

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#releases.get(connection)?.();
    this.#releases.delete(connection);
  }

  async destroy(): Promise<void> {
    await this.#tail;
    await this.#inner.destroy();
  }
}
