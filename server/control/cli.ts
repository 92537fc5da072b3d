/**
 * `gatehouse-server start | bootstrap | audit verify` (flags: cli-flags.ts, `--help`).
 * Returns the exit code: 0 done, 1 failed (one line on stderr saying why), 2 bad command
 * line. stdout carries command output; progress and reasons go to stderr.
 */
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ErrorCodes, GatehouseError, serializeError } from '../../proxy-core/src/errors.ts';
import { productVersion } from '../../proxy-core/src/version.ts';
import { commandUsage, FlagError, parseCommandFlags, SERVER_COMMANDS, SERVER_TOP_USAGE, type CommandSpec } from './cli-flags.ts';
import { configFromArgs, type ControlPlaneConfig } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';

type Flags = Record<string, string>;

/**
 * Each command's runner. The embedded store is one process's at a time: every command that
 * opens it holds the data dir's lock meanwhile (`withStoreLock`).
 */
const RUNNERS: Record<string, (flags: Flags) => Promise<number>> = {
  start: (flags) => withStoreLock(flags, 'start', start),
  bootstrap: (flags) => withStoreLock(flags, 'bootstrap', runBootstrap),
  'audit verify': (flags) => withStoreLock(flags, 'audit verify', auditVerify),
};

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--version') || argv[0] === 'version' || argv[0] === '-V') {
    process.stdout.write(`gatehouse-server ${productVersion()}\n`);
    return 0;
  }
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (argv[0] === 'help') return help(argv.slice(1).join(' '));
  const spec = findCommand(argv);
  if (!spec) {
    if (argv.length === 0) return help('', 2);
    if (argv[0] === '--help' || argv[0] === '-h') return help('');
    const group = argv[0] === 'audit' && (argv[1] === undefined || argv[1].startsWith('-'));
    if (group && wantsHelp) return help('audit verify');
    const why = group
      ? "'audit' needs a subcommand: audit verify"
      : argv[0].startsWith('-')
        ? `a command comes first, got "${argv[0]}"`
        : `unknown command "${argv[0]}"`;
    process.stderr.write(`gatehouse-server: ${why}. Run 'gatehouse-server --help'.\n`);
    return 2;
  }
  if (wantsHelp) return help(spec.name);
  const rest = argv.slice(spec.name.split(' ').length);
  let flags: Flags;
  try {
    flags = parseCommandFlags(spec, rest);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`gatehouse-server ${spec.name}: ${err.message}\nRun 'gatehouse-server ${spec.name} --help' for its flags.\n`);
    return 2;
  }
  try {
    return await RUNNERS[spec.name](flags);
  } catch (err) {
    const { code, message } = serializeError(err);
    const reason = code === 'GATEHOUSE_ERR_INTERNAL' && err instanceof Error ? err.message : message;
    process.stderr.write(`gatehouse-server: ${reason} (${code})\n`);
    return 1;
  }
}

/** Every subcommand's name ('start', 'audit verify', ...), for tests and completion. */
export const SERVER_COMMAND_NAMES: readonly string[] = SERVER_COMMANDS.map((c) => c.name);

function findCommand(argv: string[]): CommandSpec | undefined {
  return SERVER_COMMANDS.find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
}

function help(name: string, code = 0): number {
  const spec = SERVER_COMMANDS.find((c) => c.name === name);
  const text = spec ? commandUsage(spec) : SERVER_TOP_USAGE;
  (code === 0 ? process.stdout : process.stderr).write(`${text}\n`);
  return code;
}

function progress(line: string): void {
  process.stderr.write(`gatehouse-server: ${line}\n`);
}

async function start(flags: Record<string, string>): Promise<number> {
  const config = configFromArgs(flags, process.env);
  const taken = config.port === 0 ? undefined : await probeListen(config.host, config.port);
  if (taken) throw listenError(taken, config); // before the slow store opening
  progress(`starting ${productVersion()}; ${storeDescription(config)}…`);
  const { createControlPlane } = await import('./app.ts'); // heavy: loaded only when needed
  const plane = createControlPlane(config);
  const { url, listenUrl } = await plane.start().catch(async (err: unknown) => {
    await plane.close().catch(() => undefined);
    throw listenError(err, config);
  });
  process.stdout.write(`gatehouse-server listening on ${listenUrl}${url === listenUrl ? '' : ` (public URL ${url})`}\n`);
  progress('ready; press Ctrl+C to stop');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  progress('stopping…');
  await plane.close();
  return 0;
}

async function runBootstrap(flags: Record<string, string>): Promise<number> {
  const email = flags.email;
  const password = flags.password;
  if (!email || !password) {
    process.stderr.write(`gatehouse-server bootstrap: needs --email and --password\nRun 'gatehouse-server bootstrap --help' for its flags.\n`);
    return 2;
  }
  const config = configFromArgs(flags, process.env);
  const { openStore, storeTarget } = await import('./store/store.ts');
  const { bootstrap } = await import('./bootstrap.ts');
  const store = await openStore(storeTarget(config));
  try {
    const result = await bootstrap(store, { email, password, projectName: flags.project || 'default' });
    if (flags.json === 'true') {
      process.stdout.write(`${JSON.stringify({ userId: result.userId, email: result.email, projectId: result.projectId })}\n`);
    } else {
      process.stdout.write(`created admin ${result.email} (id ${result.userId})\ncreated project "${result.projectName}" (id ${result.projectId})\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * Exit 0 with the number of events and checkpoints when the chain holds; exit 1 naming the first
 * broken event, the truncation or the rewrite. Checkpoints come from the chain itself, from
 * `<dataDir>/audit-checkpoints.ndjson` and from `--checkpoints FILE` (a log or SIEM export);
 * they are checked with the key derived from the root key, or `--public-key FILE` (PEM).
 */
async function auditVerify(flags: Record<string, string>): Promise<number> {
  const config = configFromArgs(flags, process.env);
  const { openStore, storeTarget } = await import('./store/store.ts');
  const { verifyAuditChain } = await import('./audit/verify.ts');
  const { readCheckpointKey, readCheckpointFiles } = await import('./audit/verify-inputs.ts');
  const { readPrunedThrough } = await import('./retention.ts');
  const publicKey = await readCheckpointKey(config, flags['public-key']);
  const checkpoints = await readCheckpointFiles(config.dataDir, flags.checkpoints);
  const store = await openStore(storeTarget(config));
  try {
    // After retention the stored chain starts after the last exported event.
    const pruned = await readPrunedThrough(store);
    const verdict = await verifyAuditChain(store.auditEvents, {
      publicKey,
      checkpoints,
      ...(pruned && { start: { seq: pruned.seq + 1, prevHash: pruned.hash } }),
    });
    if (verdict.state === 'ok') {
      const from = pruned ? ` (from seq ${pruned.seq + 1}; earlier events were exported to ${pruned.file} and before)` : '';
      const anchored = verdict.latestCheckpoint
        ? `${verdict.checkpoints} signed checkpoint(s) hold, the latest at seq ${verdict.latestCheckpoint.seq} (${verdict.latestCheckpoint.at})`
        : 'no signed checkpoint yet (a truncation of the newest events could not be told)';
      process.stdout.write(`audit chain verified: ${verdict.count} events${from}, last hash ${verdict.lastHash}; ${anchored}\n`);
      return 0;
    }
    const { event } = verdict;
    const where = event ? ` at event seq ${event.seq} (id ${event.id}, ${event.action})` : '';
    process.stderr.write(
      `gatehouse-server: audit chain broken${where}: ${verdict.reason}; ${verdict.count} events before it verified (GATEHOUSE_ERR_AUDIT_CHAIN_BROKEN)\n`,
    );
    return 1;
  } finally {
    await store.close();
  }
}

/**
 * Runs `run` holding the data dir's lock when the store is the embedded one (a shared
 * PostgreSQL needs none); `audit verify` first makes sure there is a store to verify.
 */
async function withStoreLock(flags: Flags, command: string, run: (flags: Flags) => Promise<number>): Promise<number> {
  const config = configFromArgs(flags, process.env);
  if (config.databaseUrl !== undefined) return run(flags);
  if (command === 'audit verify') await requireEmbeddedStore(config.dataDir);
  const lock = await lockDataDir(config.dataDir, command);
  try {
    return await run(flags);
  } finally {
    await lock.release();
  }
}

/** A store that is not there is a mistyped --data-dir, not an empty audit trail. */
async function requireEmbeddedStore(dataDir: string): Promise<void> {
  const pgdata = join(dataDir, 'pgdata');
  if (
    await access(pgdata).then(
      () => true,
      () => false,
    )
  )
    return;
  throw new GatehouseError(
    ErrorCodes.STORE_NOT_FOUND,
    `no Gatehouse store in ${dataDir} (no pgdata/ there); pass the --data-dir that gatehouse-server start uses, or --database-url for PostgreSQL`,
  );
}

function storeDescription(config: ControlPlaneConfig): string {
  return config.databaseUrl === undefined
    ? `opening the embedded store in ${join(config.dataDir, 'pgdata')} (the first start creates it and takes a few seconds)`
    : 'connecting to PostgreSQL (DATABASE_URL)';
}

/** The error listening on host:port would give right now, if any. */
function probeListen(host: string, port: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err) => resolve(err));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

function listenError(err: unknown, config: ControlPlaneConfig): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new GatehouseError(
      ErrorCodes.CONFIG,
      `port ${config.port} on ${config.host} is in use by another program (another gatehouse-server or demo?); stop it or pass --port N (0: any free port)`,
      { cause: err },
    );
  }
  if (code === 'EACCES') {
    return new GatehouseError(ErrorCodes.CONFIG, `not allowed to listen on ${config.host}:${config.port}; pick a port above 1024 with --port`, { cause: err });
  }
  return err;
}
