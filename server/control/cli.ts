/**
 * `gatehouse-server start [--data-dir D] [--host H] [--port P] [--public-url U]`
 * `gatehouse-server bootstrap --email E --password P [--project NAME] [--json] [--data-dir D]`
 * Returns the exit code; output for people on stdout, one-line reasons on stderr.
 */
import { serializeError } from '../../proxy-core/src/errors.ts';
import { configFromArgs, parseFlags } from './config.ts';

const USAGE = `usage:
  gatehouse-server start [--data-dir DIR] [--host HOST] [--port PORT] [--public-url URL]
                         [--retention-days N] [--audit-retention-days N] [--audit-export-dir DIR]
  gatehouse-server bootstrap --email EMAIL --password PASSWORD [--project NAME] [--json] [--data-dir DIR]
  gatehouse-server audit verify [--data-dir DIR] [--database-url URL] [--checkpoints FILE] [--public-key FILE]`;

export async function main(argv: string[]): Promise<number> {
  const { positionals, flags } = parseFlags(argv);
  const command = positionals[0];
  try {
    if (command === 'start') return await start(flags);
    if (command === 'bootstrap') return await runBootstrap(flags);
    if (command === 'audit' && positionals[1] === 'verify') return await auditVerify(flags);
    if (command === undefined || command === 'help' || flags.help !== undefined) {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    process.stderr.write(`gatehouse-server: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  } catch (err) {
    const { code, message } = serializeError(err);
    const reason = code === 'GATEHOUSE_ERR_INTERNAL' && err instanceof Error ? err.message : message;
    process.stderr.write(`gatehouse-server: ${reason} (${code})\n`);
    return 1;
  }
}

async function start(flags: Record<string, string>): Promise<number> {
  const config = configFromArgs(flags, process.env);
  const { createControlPlane } = await import('./app.ts'); // heavy: loaded only when needed
  const plane = createControlPlane(config);
  const { url, listenUrl } = await plane.start();
  process.stdout.write(`gatehouse-server listening on ${listenUrl}${url === listenUrl ? '' : ` (public URL ${url})`}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await plane.close();
  return 0;
}

async function runBootstrap(flags: Record<string, string>): Promise<number> {
  const email = flags.email;
  const password = flags.password;
  if (!email || !password || email === 'true' || password === 'true') {
    process.stderr.write('gatehouse-server: bootstrap needs --email and --password\n');
    return 2;
  }
  const config = configFromArgs(flags, process.env);
  const { openStore, storeTarget } = await import('./store/store.ts');
  const { bootstrap } = await import('./bootstrap.ts');
  const store = await openStore(storeTarget(config));
  try {
    const result = await bootstrap(store, { email, password, projectName: flags.project && flags.project !== 'true' ? flags.project : 'default' });
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
    const verdict = await verifyAuditChain(store.auditEvents, { publicKey, checkpoints, ...(pruned && { start: { seq: pruned.seq + 1, prevHash: pruned.hash } }) });
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
    process.stderr.write(`gatehouse-server: audit chain broken${where}: ${verdict.reason}; ${verdict.count} events before it verified (GATEHOUSE_ERR_AUDIT_CHAIN_BROKEN)\n`);
    return 1;
  } finally {
    await store.close();
  }
}
