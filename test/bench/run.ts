/**
 * `npm run bench`: direct PostgreSQL against the full Gatehouse path (local proxy in the CLI
 * process → control plane relay → gateway → PostgreSQL, end-to-end TLS and recording on),
 * measured in the same run on the same server, printed as ratios.
 *
 *   pgbench select-only, 8 clients and 1 client   → TPS ratio, added µs per query
 *   pgbench -C (a new connection per transaction) → added ms per new connection
 *   1 GB COPY … TO STDOUT through psql            → throughput ratio
 *   500 concurrent connections through one gateway → failures (must be 0)
 *   100,000 statements into the PGlite store      → MB per 100,000 (test/bench/store.ts)
 *   sessions logs --tail 20 on 785,000 events      → ms (test/bench/store.ts)
 *
 *   web console: first-load gzipped JS and the first page of a 100,000-event session log
 *                                                 (test/bench/console.ts)
 *   web access: first page of a 1,000,000-row table, CSV export throughput and the
 *               server's peak memory during it        (test/bench/web-access.ts)
 *
 * Options: --seconds N (per pgbench run, default 10), --copy-mb N (default 1024),
 * --concurrent N (default 500), --statements N (default 100000), --tail-events N (default 785000),
 * --skip copy,concurrent,plain,store,tail,console,web (plain: the reference relay).
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { startStack } from '../../server/demo/stack.ts';
import { startAccess } from './access.ts';
import { benchLogTail, benchStoreSize } from './store.ts';
import { consoleBench } from './console.ts';
import { webAccessBench } from './web-access.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'copy-mb': { type: 'string', default: '1024' },
    concurrent: { type: 'string', default: '500' },
    skip: { type: 'string', default: '' },
    statements: { type: 'string', default: '100000' },
    'tail-events': { type: 'string', default: '785000' },
  },
});
const STATEMENTS = Number(opts.statements);
const TAIL_EVENTS = Number(opts['tail-events']);
const SECONDS = Number(opts.seconds);
const COPY_MB = Number(opts['copy-mb']);
const CONCURRENT = Number(opts.concurrent);
const SKIP = new Set(opts.skip.split(',').filter(Boolean));

interface Target {
  label: string;
  url: string;
  env: NodeJS.ProcessEnv;
}

async function pgbench(target: Target, args: string[]): Promise<{ tps: number; latencyMs: number; connMs?: number }> {
  const { stdout } = await run('pgbench', [...args, target.url], { env: { ...process.env, ...target.env }, maxBuffer: 16 << 20 });
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
  const conn = /average connection time = ([\d.]+) ms/.exec(stdout)?.[1];
  if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return { tps, latencyMs, connMs: conn === undefined ? undefined : Number(conn) };
}

async function copyOut(target: Target, megabytes: number): Promise<number> {
  const rows = megabytes * 1024; // 1 KiB per row
  // \copy runs COPY … TO STDOUT on the wire; `wc -c` drains it as fast as psql writes and
  // counts it, so neither side pays for a slow consumer.
  const sql = `\\copy (SELECT repeat('x', 1023) FROM generate_series(1, ${rows})) TO PROGRAM 'wc -c'`;
  const started = process.hrtime.bigint();
  const { stdout } = await run('psql', [target.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: { ...process.env, ...target.env } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = Number(stdout.trim());
  if (bytes < rows * 1024) throw new Error(`psql COPY delivered ${bytes} bytes, expected ${rows * 1024}`);
  return megabytes / seconds;
}

async function concurrentConnections(target: Target, count: number): Promise<{ failed: number; ms: number; firstError?: string }> {
  const started = Date.now();
  const results = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      // node-postgres ignores `password` next to a connection string: the direct URL carries it.
      const client = new pg.Client({ connectionString: withPassword(target.url, target.env.PGPASSWORD), connectionTimeoutMillis: 60_000 });
      await client.connect();
      try {
        const { rows } = await client.query('select 1 as one');
        if (rows[0].one !== 1) throw new Error('wrong result');
        await new Promise((r) => setTimeout(r, 200)); // hold it open while the others arrive
      } finally {
        await client.end();
      }
    }),
  );
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  return { failed: failures.length, ms: Date.now() - started, firstError: failures[0] ? String(failures[0].reason) : undefined };
}

function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/** Busy and total jiffies of the whole machine, or undefined where /proc is not available. */
async function machineJiffies(): Promise<{ busy: number; total: number } | undefined> {
  try {
    const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - cpu[3] - (cpu[4] ?? 0), total }; // minus idle and iowait
  } catch {
    return undefined;
  }
}

/**
 * Waits until the machine is quiet (under 10% busy for a second) after flushing dirty pages,
 * so each measure runs alone: after a pgbench run, recording still stores that run's session
 * events for several seconds and the kernel writes them back, and neither may be charged to
 * the next measure. At most 60 s.
 */
async function settle(): Promise<void> {
  await run('sync').catch(() => undefined);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const before = await machineJiffies();
    await new Promise((r) => setTimeout(r, 1000));
    const after = await machineJiffies();
    if (before === undefined || after === undefined) return;
    if ((after.busy - before.busy) / Math.max(1, after.total - before.total) < 0.1) return;
  }
}

/**
 * The reference the targets are read against: three Node processes piping TCP to the same
 * server (no TLS, no recording, no parsing), the fewest hops a relay through a local proxy,
 * a control plane and a gateway can have.
 */
async function startPlainRelay(pgPort: number): Promise<{ port: number; stop: () => void }> {
  const hops: ChildProcess[] = [];
  let target = pgPort;
  for (let i = 0; i < 3; i += 1) {
    const hop = fork(join(ROOT, 'test', 'bench', 'plain-relay-hop.mjs'), [String(target)], { stdio: 'ignore' });
    hops.push(hop);
    target = await new Promise<number>((resolvePort, reject) => {
      hop.once('message', (m: { port: number }) => resolvePort(m.port));
      hop.once('exit', (code) => reject(new Error(`plain relay hop exited with ${code}`)));
    });
  }
  return { port: target, stop: () => hops.forEach((h) => h.kill()) };
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

async function main(): Promise<void> {
  if (!SKIP.has('console')) await consoleBench((s) => process.stdout.write(`${s}\n`));
  if (!SKIP.has('web')) await webAccessBench((s) => process.stdout.write(`${s}\n`));
  const home = await mkdtemp(join(tmpdir(), 'gatehouse-bench-home-'));
  process.stderr.write('bench: starting PostgreSQL, control plane, gateway…\n');
  const stack = await startStack({ pgTls: false, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  let access: Awaited<ReturnType<typeof startAccess>> | undefined;
  try {
    // pgbench tables, and an account that may use them.
    const direct: Target = {
      label: 'direct',
      url: `postgresql://postgres@127.0.0.1:${stack.pg.port}/shop`,
      env: { PGPASSWORD: stack.pg.superuserPassword },
    };
    await run('pgbench', ['-i', '-q', '-s', '10', direct.url], { env: { ...process.env, ...direct.env } });
    const [resource] = (await stack.api<{ resources: Array<{ id: string; name: string }> }>('GET', `/projects/${stack.projectId}/resources`)).resources;
    await stack.api('POST', `/resources/${resource.id}/accounts`, { name: 'bench', username: 'postgres', password: stack.pg.superuserPassword });
    access = await startAccess(stack, home);
    // The local leg is loopback: TLS there protects nothing (anyone who can read loopback can
    // connect to the port) and the direct target has none, so the client skips it. The tunnel
    // behind the local proxy is end-to-end TLS either way.
    const proxied: Target = { label: 'gatehouse', url: `${access.url}?sslmode=disable`, env: {} };

    const rows: string[] = [];
    const line = (s: string) => {
      rows.push(s);
      process.stdout.write(`${s}\n`);
    };
    line(`Gatehouse benchmark — ${new Date().toISOString()} — ${SECONDS}s per pgbench run, 2 cores`);

    const plain = SKIP.has('plain') ? undefined : await startPlainRelay(stack.pg.port);
    try {
      for (const clients of [8, 1]) {
        await settle();
        const args = ['-n', '-S', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(SECONDS)];
        const d = await pgbench(direct, args);
        const g = await pgbench(proxied, args);
        const added = (r: { latencyMs: number }) => (clients === 1 ? `, +${fmt((r.latencyMs - d.latencyMs) * 1000, 0)} µs per query` : '');
        line(`select-only ${clients} client(s): direct ${fmt(d.tps, 0)} tps, gatehouse ${fmt(g.tps, 0)} tps → ${fmt(g.tps / d.tps)}×${added(g)}`);
        if (plain) {
          await settle();
          const p = await pgbench({ ...direct, url: direct.url.replace(`:${stack.pg.port}/`, `:${plain.port}/`) }, args);
          line(`  reference, a plain 3-process TCP relay (no TLS, no recording): ${fmt(p.tps, 0)} tps → ${fmt(p.tps / d.tps)}×${added(p)}`);
        }
      }
    } finally {
      plain?.stop();
    }

    {
      await settle();
      const args = ['-n', '-S', '-C', '-c', '1', '-T', String(Math.max(3, Math.round(SECONDS / 2)))];
      const d = await pgbench(direct, args);
      const g = await pgbench(proxied, args);
      if (d.connMs !== undefined && g.connMs !== undefined) {
        line(`new connection: direct ${fmt(d.connMs, 3)} ms, gatehouse ${fmt(g.connMs, 3)} ms → +${fmt(g.connMs - d.connMs, 3)} ms`);
      } else {
        line(`new connection (tps with -C): direct ${fmt(d.tps, 0)}, gatehouse ${fmt(g.tps, 0)} → ${fmt(g.tps / d.tps)}×`);
      }
    }

    if (!SKIP.has('copy')) {
      await settle();
      const d = await copyOut(direct, COPY_MB);
      const g = await copyOut(proxied, COPY_MB);
      line(`COPY TO STDOUT ${COPY_MB} MB: direct ${fmt(d, 0)} MB/s, gatehouse ${fmt(g, 0)} MB/s → ${fmt(g / d)}×`);
    }

    if (!SKIP.has('store')) {
      await settle();
      if (!(await benchStoreSize({ stack, proxiedUrl: proxied.url, sessionId: access.sessionId, statements: STATEMENTS, line }))) process.exitCode = 1;
    }

    if (!SKIP.has('concurrent')) {
      await settle();
      const d = await concurrentConnections(direct, CONCURRENT);
      const g = await concurrentConnections(proxied, CONCURRENT);
      line(
        `${CONCURRENT} concurrent connections: direct ${d.failed} failed in ${d.ms} ms, gatehouse ${g.failed} failed in ${g.ms} ms` +
          (d.firstError ? ` (direct first error: ${d.firstError})` : '') +
          (g.firstError ? ` (gatehouse first error: ${g.firstError})` : ''),
      );
    }
  } finally {
    await access?.stop().catch(() => undefined);
    await stack.close();
    await rm(home, { recursive: true, force: true });
  }
  if (!SKIP.has('tail')) {
    await settle();
    if (!(await benchLogTail({ events: TAIL_EVENTS, line: (s) => process.stdout.write(`${s}\n`) }))) process.exitCode = 1;
  }
}

await main();
