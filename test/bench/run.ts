/**
 * `npm run bench`: direct PostgreSQL, the full Gatehouse path (local proxy in the CLI process →
 * control plane relay → gateway → PostgreSQL, end-to-end TLS and recording on) and a plain
 * three-process TCP relay (the reference), measured in the same run on the same server and
 * printed as ratios next to issue 15's targets:
 *
 *   pgbench select-only, 8 clients     → TPS, gatehouse ≥ 0.8× the plain relay
 *                                        + CPU per query of each process, ≤ 1.5× a plain hop
 *   pgbench select-only, 1 client      → added µs per query, ≤ 1.3× the plain relay's
 *   200 new connections, one at a time → median and p95 connect time, p95 ≤ direct + 3 ms
 *   COPY TO STDOUT / FROM STDIN (psql) → MB/s, ≥ 0.6× direct and ≥ 0.8× the plain relay;
 *                                        peak RSS of each process ≤ 300 MB
 *   relay capacity                     → 10…100 sessions, each one connection running
 *                                        `select 1` in a loop: queries/s, relay CPU per query
 *   500 concurrent connections through one gateway → failures (must be 0), peak RSS
 *   100,000 statements into the PGlite store      → MB per 100,000 (test/bench/store.ts)
 *   sessions logs --tail 20 on 785,000 events      → ms (test/bench/store.ts)
 *
 *   web console: first-load gzipped JS and the first page of a 100,000-event session log
 *                                                 (test/bench/console.ts)
 *   web access: first page of a 1,000,000-row table, CSV export throughput and the
 *               server's peak memory during it        (test/bench/web-access.ts)
 *
 * Options: --seconds N (per pgbench run, default 10), --copy-mb N (default 256; issue 15 reads
 * the targets at 1024), --connections N (default 200), --capacity 10,100 (sessions),
 * --settle N (longest wait for a quiet machine before a measure, default 60 s),
 * --concurrent N (default 500), --statements N (default 100000), --tail-events N (default 785000),
 * --skip copy,connect,capacity,concurrent,store,tail,console,web.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { startAccess } from './access.ts';
import { benchLogTail, benchStoreSize } from './store.ts';
import { consoleBench } from './console.ts';
import { cpuDuring, peakRssMb, resetPeakRss } from './proc-stat.ts';
import { webAccessBench } from './web-access.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'copy-mb': { type: 'string', default: '256' },
    connections: { type: 'string', default: '200' },
    capacity: { type: 'string', default: '10,100' },
    settle: { type: 'string', default: '60' },
    concurrent: { type: 'string', default: '500' },
    skip: { type: 'string', default: '' },
    /** The control plane's store: embedded (PGlite, in its process) or postgres (DATABASE_URL). */
    store: { type: 'string', default: 'embedded' },
    statements: { type: 'string', default: '100000' },
    'tail-events': { type: 'string', default: '785000' },
  },
});
const STATEMENTS = Number(opts.statements);
const TAIL_EVENTS = Number(opts['tail-events']);
const SECONDS = Number(opts.seconds);
const COPY_MB = Number(opts['copy-mb']);
const CONCURRENT = Number(opts.concurrent);
const CONNECTIONS = Number(opts.connections);
const SETTLE_MAX_MS = Number(opts.settle) * 1000;
const CAPACITY = opts.capacity.split(',').filter(Boolean).map(Number);
const SKIP = new Set(opts.skip.split(',').filter(Boolean));
if (opts.store !== 'embedded' && opts.store !== 'postgres') throw new Error(`--store is embedded or postgres, not ${opts.store}`);
const STORE = opts.store;

interface Target {
  label: string;
  url: string;
  env: NodeJS.ProcessEnv;
}

async function pgbench(target: Target, args: string[]): Promise<{ tps: number; latencyMs: number; transactions: number }> {
  const { stdout } = await run('pgbench', [...args, target.url], { env: { ...process.env, ...target.env }, maxBuffer: 16 << 20 });
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
  if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return { tps, latencyMs, transactions };
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
 * the next measure. At most --settle seconds (default 60).
 */
async function settle(): Promise<void> {
  await run('sync').catch(() => undefined);
  const deadline = Date.now() + SETTLE_MAX_MS;
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
async function startPlainRelay(pgPort: number): Promise<{ port: number; pids: Array<number | undefined>; stop: () => void }> {
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
  return { port: target, pids: hops.map((h) => h.pid), stop: () => hops.forEach((h) => h.kill()) };
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** COPY … FROM STDIN of `megabytes` 1 KiB rows into an unlogged table, through psql; MB/s. */
async function copyIn(target: Target, megabytes: number): Promise<number> {
  const rows = megabytes * 1024;
  const env = { ...process.env, ...target.env };
  await run(
    'psql',
    [target.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', 'DROP TABLE IF EXISTS bench_copy_in; CREATE UNLOGGED TABLE bench_copy_in (t text)'],
    { env },
  );
  // `yes` writes the rows as fast as psql reads them; the server's cost is the same for every path.
  const sql = `\\copy bench_copy_in FROM PROGRAM 'yes ${'x'.repeat(1023)} | head -n ${rows}'`;
  const started = process.hrtime.bigint();
  const { stdout } = await run('psql', [target.url, '-X', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!stdout.includes(`COPY ${rows}`)) throw new Error(`psql COPY FROM STDIN said ${stdout.trim()}, expected COPY ${rows}`);
  await run('psql', [target.url, '-X', '-q', '-c', 'DROP TABLE bench_copy_in'], { env });
  return megabytes / seconds;
}

/** Connects and disconnects `count` times, one at a time; the connect times in ms, sorted. */
async function connectTimes(target: Target, count: number): Promise<number[]> {
  const url = withPassword(target.url, target.env.PGPASSWORD);
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000 });
    const started = process.hrtime.bigint();
    await client.connect();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    await client.end();
  }
  return times.sort((a, b) => a - b);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * Relay capacity: `sessions` access sessions in a load process (test/bench/capacity-load.ts),
 * each one connection running `select 1` in a loop for SECONDS; the queries per second and the
 * relay's CPU per query.
 */
async function relayCapacity(
  stack: Stack,
  home: string,
  relayPid: number | undefined,
  sessions: number,
): Promise<{ qps: number; relayUsPerQuery: number | undefined; relayBusy: number | undefined }> {
  const load = fork(join(ROOT, 'test', 'bench', 'capacity-load.ts'), [stack.domain, stack.projectId, stack.resource, 'bench', String(sessions)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((r) => load.once('exit', () => r()));
  const next = <T>(key: string) =>
    new Promise<T>((resolveMessage, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        load.off('message', onMessage);
        resolveMessage(m[key] as T);
      };
      load.on('message', onMessage);
      void exited.then(() => reject(new Error(`the capacity load process exited before it sent ${key}`)));
    });
  try {
    await next<boolean>('ready');
    await settle();
    const { result: queries, cpu } = await cpuDuring({ relay: relayPid }, async () => {
      load.send({ go: SECONDS });
      return next<number>('queries');
    });
    return {
      qps: queries / SECONDS,
      relayUsPerQuery: cpu.relay === undefined ? undefined : (cpu.relay * 1000) / queries,
      relayBusy: cpu.relay === undefined ? undefined : cpu.relay / (SECONDS * 1000),
    };
  } finally {
    load.send({ stop: true });
    const timer = setTimeout(() => load.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

function us(ms: number | undefined, per: number): string {
  return ms === undefined ? 'n/a' : `${fmt((ms * 1000) / per, 0)} µs`;
}

function mb(n: number | undefined): string {
  return n === undefined ? 'n/a' : `${fmt(n, 0)} MB`;
}

async function main(): Promise<void> {
  if (!SKIP.has('console')) await consoleBench((s) => process.stdout.write(`${s}\n`));
  if (!SKIP.has('web')) await webAccessBench((s) => process.stdout.write(`${s}\n`));
  const home = await mkdtemp(join(tmpdir(), 'gatehouse-bench-home-'));
  process.stderr.write('bench: starting PostgreSQL, control plane, gateway…\n');
  const stack = await startStack({ pgTls: false, store: STORE, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  let access: Awaited<ReturnType<typeof startAccess>> | undefined;
  let plain: Awaited<ReturnType<typeof startPlainRelay>> | undefined;
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
    plain = await startPlainRelay(stack.pg.port);
    const viaPlain: Target = { ...direct, label: 'plain relay', url: direct.url.replace(`:${stack.pg.port}/`, `:${plain.port}/`) };
    const gatehousePids = { 'local proxy': access.pid, relay: stack.server.child.pid, gateway: stack.gateway.child.pid };
    const plainPids = Object.fromEntries(plain.pids.map((pid, i) => [`hop ${i + 1}`, pid]));
    const plainHopMs = (cpu: Record<string, number | undefined>) => {
      const known = Object.values(cpu).filter((v): v is number => v !== undefined);
      return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0) / known.length;
    };

    const rows: string[] = [];
    const line = (s: string) => {
      rows.push(s);
      process.stdout.write(`${s}\n`);
    };
    line(
      `Gatehouse benchmark — ${new Date().toISOString()} — ${SECONDS}s per pgbench run, control plane store ${STORE === 'embedded' ? 'embedded (PGlite)' : 'PostgreSQL (DATABASE_URL)'}, ${availableParallelism()} cores, load average ${fmt(loadavg()[0], 1)}; "plain" is three Node processes piping TCP (no TLS, no recording)`,
    );

    for (const clients of [8, 1]) {
      await settle();
      const args = ['-n', '-S', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(SECONDS)];
      const d = await pgbench(direct, args);
      await settle();
      const { result: g, cpu: gCpu } = await cpuDuring(gatehousePids, () => pgbench(proxied, args));
      await settle();
      const { result: p, cpu: pCpu } = await cpuDuring(plainPids, () => pgbench(viaPlain, args));
      if (clients === 8) {
        line(
          `select-only 8 clients: direct ${fmt(d.tps, 0)} tps, gatehouse ${fmt(g.tps, 0)} tps (${fmt(g.tps / d.tps)}×), plain ${fmt(p.tps, 0)} tps (${fmt(p.tps / d.tps)}×) → gatehouse/plain ${fmt(g.tps / p.tps)}× (target ≥ 0.80×: ${verdict(g.tps / p.tps >= 0.8)})`,
        );
      } else {
        const gAdded = (g.latencyMs - d.latencyMs) * 1000;
        const pAdded = (p.latencyMs - d.latencyMs) * 1000;
        const judged =
          pAdded > 0 && gAdded > 0
            ? `${fmt(gAdded / pAdded)}× the plain relay's added latency (target ≤ 1.30×: ${verdict(gAdded / pAdded <= 1.3)})`
            : 'not measurable: the direct run was slower than a relayed one (the machine was busy)';
        line(
          `select-only 1 client: direct ${fmt(d.latencyMs * 1000, 0)} µs per query, gatehouse ${fmt(g.latencyMs * 1000, 0)} µs (+${fmt(gAdded, 0)}), plain ${fmt(p.latencyMs * 1000, 0)} µs (+${fmt(pAdded, 0)}) → ${judged}`,
        );
      }
      const hop = plainHopMs(pCpu);
      const perProcess = Object.entries(gCpu).map(([name, ms]) => {
        const ratio = ms === undefined || hop === undefined ? undefined : ms / g.transactions / (hop / p.transactions);
        return `${name} ${us(ms, g.transactions)}${ratio === undefined ? '' : ` (${fmt(ratio)}×${ratio <= 1.5 ? '' : ' MISSED'})`}`;
      });
      line(`  CPU per query, ${clients} client(s): ${perProcess.join(', ')}; plain hop ${us(hop, p.transactions)} (target ≤ 1.50× a plain hop)`);
    }

    if (!SKIP.has('connect')) {
      await settle();
      const d = await connectTimes(direct, CONNECTIONS);
      await settle();
      const g = await connectTimes(proxied, CONNECTIONS);
      await settle();
      const p = await connectTimes(viaPlain, CONNECTIONS);
      const show = (t: number[]) => `median ${fmt(percentile(t, 0.5))} ms, p95 ${fmt(percentile(t, 0.95))} ms`;
      const added = percentile(g, 0.95) - percentile(d, 0.95);
      line(
        `new connection (${CONNECTIONS}, one at a time, node-postgres): direct ${show(d)}; gatehouse ${show(g)}; plain ${show(p)} → gatehouse p95 +${fmt(added)} ms over direct (target ≤ +3 ms: ${verdict(added <= 3)})`,
      );
    }

    if (!SKIP.has('copy')) {
      const measure = async (label: string, copy: (t: Target, megabytes: number) => Promise<number>) => {
        await settle();
        const d = await copy(direct, COPY_MB);
        await settle();
        const g = await copy(proxied, COPY_MB);
        await settle();
        const p = await copy(viaPlain, COPY_MB);
        line(
          `${label} ${COPY_MB} MB: direct ${fmt(d, 0)} MB/s, gatehouse ${fmt(g, 0)} MB/s, plain ${fmt(p, 0)} MB/s → ${fmt(g / d)}× direct (target ≥ 0.60×: ${verdict(g / d >= 0.6)}), ` +
            `${fmt(g / p)}× plain (target ≥ 0.80×: ${verdict(g / p >= 0.8)})`,
        );
      };
      await Promise.all(Object.values(gatehousePids).map(resetPeakRss));
      await measure('COPY TO STDOUT', copyOut);
      await measure('COPY FROM STDIN', copyIn);
      line(`  peak RSS during COPY: ${await peakRssLine(gatehousePids)}`);
    }
    plain.stop();
    plain = undefined;

    if (!SKIP.has('capacity')) {
      const results: string[] = [];
      for (const sessions of CAPACITY) {
        const c = await relayCapacity(stack, home, gatehousePids.relay, sessions);
        results.push(
          `${sessions} sessions ${fmt(c.qps, 0)} queries/s, relay ${us(c.relayUsPerQuery === undefined ? undefined : c.relayUsPerQuery / 1000, 1)} CPU per query (relay ${c.relayBusy === undefined ? 'n/a' : `${fmt(c.relayBusy * 100, 0)}%`} of a core)`,
        );
      }
      line(`relay capacity (one connection per session, select 1 in a loop): ${results.join('; ')}`);
    }

    if (!SKIP.has('store')) {
      await settle();
      if (!(await benchStoreSize({ stack, proxiedUrl: proxied.url, sessionId: access.sessionId, statements: STATEMENTS, line }))) process.exitCode = 1;
    }

    if (!SKIP.has('concurrent')) {
      await settle();
      const d = await concurrentConnections(direct, CONCURRENT);
      await Promise.all(Object.values(gatehousePids).map(resetPeakRss));
      const g = await concurrentConnections(proxied, CONCURRENT);
      line(
        `${CONCURRENT} concurrent connections: direct ${d.failed} failed in ${d.ms} ms, gatehouse ${g.failed} failed in ${g.ms} ms` +
          (d.firstError ? ` (direct first error: ${d.firstError})` : '') +
          (g.firstError ? ` (gatehouse first error: ${g.firstError})` : ''),
      );
      line(`  peak RSS during ${CONCURRENT} connections: ${await peakRssLine(gatehousePids)}`);
    }
    line(`load average at the end: ${fmt(loadavg()[0], 1)} (other work on the machine slows Gatehouse's three processes more than the plain relay's)`);
  } finally {
    plain?.stop();
    await access?.stop().catch(() => undefined);
    await stack.close();
    await rm(home, { recursive: true, force: true });
  }
  if (!SKIP.has('tail')) {
    await settle();
    if (!(await benchLogTail({ events: TAIL_EVENTS, line: (s) => process.stdout.write(`${s}\n`) }))) process.exitCode = 1;
  }
}

async function peakRssLine(pids: Record<string, number | undefined>): Promise<string> {
  const peaks = await Promise.all(Object.entries(pids).map(async ([name, pid]) => [name, await peakRssMb(pid)] as const));
  const over = peaks.some(([, v]) => v !== undefined && v > 300);
  return `${peaks.map(([name, v]) => `${name} ${mb(v)}`).join(', ')} (target ≤ 300 MB each: ${verdict(!over)})`;
}

await main();
