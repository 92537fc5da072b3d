/**
 * Store benchmarks (part of `npm run bench`; alone: `node --import tsx test/bench/store.ts`).
 *
 *   store: 100,000 statements through the full path (pgbench select-only through the local
 *          proxy, gateway, relay) into the control plane's PGlite store; prints how much the
 *          data dir, its tables and pg_wal grew, and fails when past the README's bounds.
 *   tail:  a 785,000-event session generated in a PGlite store; times `GET …/logs?tail=20`
 *          and `gatehouse sessions logs <id> --tail 20` (the whole CLI process).
 *
 * Options when run alone: --statements N (default 100000), --events N (default 785000),
 * --skip store,tail.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { generateKeyPair } from '../../proxy-core/src/tls/certs.ts';
import { ADMIN, call, connectGateway, login, startTestPlane } from '../../server/control/test/helpers.ts';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { startAccess } from './access.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MB = 1024 * 1024;

/** README "Store size": growth of tables + indexes per 100,000 recorded statements. */
export const TABLES_MB_PER_100K_BOUND = 80;
/** README "Store size": pg_wal at any time (the store checkpoints past 64 MiB). */
export const WAL_MB_BOUND = 128;
/** `sessions logs --tail 20` on a 785,000-event session. */
export const TAIL_MS_BOUND = 1000;

type Line = (text: string) => void;

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(path);
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

async function storeSizes(pgdata: string): Promise<{ total: number; wal: number; tables: number }> {
  const [total, wal, tables] = await Promise.all([treeBytes(pgdata), treeBytes(join(pgdata, 'pg_wal')), treeBytes(join(pgdata, 'base'))]);
  return { total, wal, tables };
}

const mb = (bytes: number): string => (bytes / MB).toFixed(1);

/** Runs `statements` select-only statements through Gatehouse and measures the store's growth. */
export async function benchStoreSize(opts: { stack: Stack; proxiedUrl: string; sessionId: string; statements: number; line: Line }): Promise<boolean> {
  const { stack, proxiedUrl, sessionId, statements, line } = opts;
  const pgdata = join(stack.dataDir, 'server', 'pgdata');
  const lastSeq = async (): Promise<number> => {
    const { events } = await stack.api<{ events: Array<{ seq: number }> }>('GET', `/sessions/${sessionId}/logs?tail=1`);
    return events[0]?.seq ?? 0;
  };
  const seqBefore = await lastSeq();
  const before = await storeSizes(pgdata);
  const clients = 4;
  const started = Date.now();
  await run('pgbench', ['-n', '-S', '-c', String(clients), '-j', '2', '-t', String(Math.ceil(statements / clients)), proxiedUrl], { maxBuffer: 16 << 20 });
  // Every statement plus a connect and a disconnect per client must be stored.
  const expected = seqBefore + statements + 2 * clients;
  const deadline = Date.now() + 10 * 60_000;
  let seq = await lastSeq();
  while (seq < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    seq = await lastSeq();
  }
  const seconds = (Date.now() - started) / 1000;
  // Give the store's WAL check (every 10 s) its chance, as on a running server.
  await new Promise((r) => setTimeout(r, 12_000));
  const after = await storeSizes(pgdata);
  const per100k = (bytes: number) => (bytes * 100_000) / statements;
  const tablesPer100k = per100k(after.tables - before.tables);
  const ok = seq >= expected && tablesPer100k <= TABLES_MB_PER_100K_BOUND * MB && after.wal <= WAL_MB_BOUND * MB;
  line(
    `store (PGlite): ${statements} statements recorded in ${seconds.toFixed(0)} s → tables +${mb(tablesPer100k)} MB per 100,000 statements ` +
      `(bound ${TABLES_MB_PER_100K_BOUND}), pg_wal ${mb(after.wal)} MB (bound ${WAL_MB_BOUND}), data dir ${mb(before.total)} → ${mb(after.total)} MB` +
      `${seq < expected ? `; only ${seq - seqBefore} of ${expected - seqBefore} events stored` : ''} — ${ok ? 'within bounds' : 'OVER BOUND'}`,
  );
  return ok;
}

/** Generates a session of `events` events and times the newest 20 through the API and the CLI. */
export async function benchLogTail(opts: { events: number; line: Line }): Promise<boolean> {
  const { events, line } = opts;
  const t = await startTestPlane();
  const home = await mkdtemp(join(tmpdir(), 'gatehouse-bench-tail-'));
  try {
    const admin = await login(t.url, ADMIN.email, ADMIN.password);
    const gateway = await connectGateway(t, admin.accessToken, 'gw-bench-tail');
    const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: admin.accessToken,
      body: { name: 'big', gatewayId: gateway.id, host: '127.0.0.1', database: 'big' },
    });
    await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
      token: admin.accessToken,
      body: { name: 'ro', username: 'ro', password: 'bench-password' },
    });
    const session = await call(t.url, 'POST', '/api/v1/sessions', {
      token: admin.accessToken,
      body: { projectId: t.projectId, resource: 'big', account: 'ro', duration: '1h', publicKeyPem: generateKeyPair().publicKeyPem },
    });
    const sessionId: string = session.body.session.id;
    // The events go straight into the store (as the relay stores them); the link is not needed,
    // and its heartbeat would time out while PGlite is busy.
    gateway.ws.on('error', () => undefined);
    gateway.close();
    const generated = Date.now();
    const batch = 5000;
    for (let first = 1; first <= events; first += batch) {
      const at = new Date().toISOString();
      const rows = Array.from({ length: Math.min(batch, events - first + 1) }, (_, i) => ({
        seq: first + i,
        sessionId,
        connectionId: `c${(first + i) % 7}`,
        at,
        type: 'statement',
        protocol: 'simple',
        sql: `SELECT abalance FROM pgbench_accounts WHERE aid = ${first + i};`,
        durationMs: 0.2,
        outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 },
      }));
      await t.plane.store.sessionEvents.insert(gateway.id, rows);
    }
    const generateSeconds = (Date.now() - generated) / 1000;

    // A keep-alive connection left idle while PGlite kept the event loop busy may have been
    // closed by the server meanwhile: one warm-up request (retried once) before timing.
    await call(t.url, 'GET', '/api/v1/me', { token: admin.accessToken }).catch(() => call(t.url, 'GET', '/api/v1/me', { token: admin.accessToken }));
    const apiStarted = performance.now();
    const res = await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs?tail=20`, { token: admin.accessToken });
    const apiMs = performance.now() - apiStarted;
    if (res.body.events.at(-1)?.seq !== events) throw new Error(`tail answered ${JSON.stringify(res.body.events.at(-1))}`);

    const env = { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' };
    const cli = join(ROOT, 'bin', 'gatehouse.mjs');
    await run(process.execPath, [cli, 'login', '--domain', t.url, '--email', ADMIN.email, '--password', ADMIN.password], { env });
    const cliStarted = performance.now();
    const { stdout } = await run(process.execPath, [cli, 'sessions', 'logs', sessionId, '--tail', '20'], { env });
    const cliMs = performance.now() - cliStarted;
    const printed = stdout.trim().split('\n').length - 1;
    const helpStarted = performance.now();
    await run(process.execPath, [cli, '--help'], { env });
    const startupMs = performance.now() - helpStarted;
    // Judged without the CLI's own start (node + tsx, the same for `--help`), which depends on
    // the machine's load, not on the session's size.
    const workMs = cliMs - startupMs;
    const ok = printed === 20 && apiMs < TAIL_MS_BOUND && workMs < TAIL_MS_BOUND;
    line(
      `sessions logs --tail 20 on a ${events}-event session (generated in ${generateSeconds.toFixed(0)} s): API ${apiMs.toFixed(0)} ms; ` +
        `whole CLI process ${cliMs.toFixed(0)} ms, of which starting the CLI (as for --help) ${startupMs.toFixed(0)} ms at load average ${loadavg()[0].toFixed(1)} ` +
        `— ${ok ? `under ${TAIL_MS_BOUND} ms` : `OVER ${TAIL_MS_BOUND} ms`}`,
    );
    return ok;
  } finally {
    await t.close();
    await rm(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { statements: { type: 'string', default: '100000' }, events: { type: 'string', default: '785000' }, skip: { type: 'string', default: '' } },
  });
  const skip = new Set(values.skip.split(',').filter(Boolean));
  const line: Line = (text) => process.stdout.write(`${text}\n`);
  let ok = true;
  if (!skip.has('store')) {
    const stack = await startStack({ pgTls: false, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
    const home = await mkdtemp(join(tmpdir(), 'gatehouse-bench-home-'));
    let access: Awaited<ReturnType<typeof startAccess>> | undefined;
    try {
      const direct = `postgresql://postgres@127.0.0.1:${stack.pg.port}/shop`;
      await run('pgbench', ['-i', '-q', '-s', '1', direct], { env: { ...process.env, PGPASSWORD: stack.pg.superuserPassword } });
      const [resource] = (await stack.api<{ resources: Array<{ id: string }> }>('GET', `/projects/${stack.projectId}/resources`)).resources;
      await stack.api('POST', `/resources/${resource.id}/accounts`, { name: 'bench', username: 'postgres', password: stack.pg.superuserPassword });
      access = await startAccess(stack, home);
      ok =
        (await benchStoreSize({
          stack,
          proxiedUrl: `${access.url}?sslmode=disable`,
          sessionId: access.sessionId,
          statements: Number(values.statements),
          line,
        })) && ok;
    } finally {
      await access?.stop().catch(() => undefined);
      await stack.close();
      await rm(home, { recursive: true, force: true });
    }
  }
  if (!skip.has('tail')) ok = (await benchLogTail({ events: Number(values.events), line })) && ok;
  process.exitCode = ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
