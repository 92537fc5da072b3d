/**
 * Web Access budgets (issue 12), measured and printed, not asserted, against the demo stack as
 * real processes (PostgreSQL, gatehouse-server, gateway):
 *   - the Data Explorer's first page of a 1,000,000-row table: `POST …/rows` (limit 100),
 *     median and worst of 20 calls over loopback, unsorted (primary key) and sorted on an
 *     indexed column descending (budget 300 ms);
 *   - export of the whole table as CSV: rows/s and MB/s through the web session, beside psql's
 *     `COPY … TO STDOUT` straight from PostgreSQL in the same run, and the server process's
 *     resident memory before and at its peak during the export (sampled from /proc every 20 ms).
 * Run alone with `node --import tsx test/bench/web-access.ts [--rows N]`, or as a step of `npm run bench`.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { request } from 'undici';
import { startStack } from '../../server/demo/stack.ts';
import { call } from '../../server/control/test/helpers.ts';

const run = promisify(execFile);

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function stats(times: number[]): {
  median: number;
  worst: number;
  first: number;
} {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)],
    worst: sorted[sorted.length - 1],
    first: times[0],
  };
}

export async function webAccessBench(print: (line: string) => void, rows = 1_000_000): Promise<void> {
  const stack = await startStack({
    pgTls: false,
    env: { GATEHOUSE_LOG_LEVEL: 'warn' },
  });
  try {
    await stack.pg.query(
      `CREATE TABLE bench_rows (id int PRIMARY KEY, label text NOT NULL, amount numeric(12,2), created_at timestamptz NOT NULL);
       INSERT INTO bench_rows SELECT g, 'row ' || g, g / 100.0, '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, ${rows}) g;
       CREATE INDEX bench_rows_created_at ON bench_rows (created_at);
       ANALYZE bench_rows;
       GRANT SELECT ON bench_rows TO readonly, readwrite;`,
      'shop',
    );
    const token = await stack.adminToken();
    const resources = await stack.api<{
      resources: { id: string; name: string }[];
    }>('GET', `/projects/${stack.projectId}/resources`);
    const resourceId = resources.resources.find((r) => r.name === stack.resource)!.id;
    const accounts = await stack.api<{
      accounts: { id: string; name: string }[];
    }>('GET', `/resources/${resourceId}/accounts`);
    const accountId = accounts.accounts.find((a) => a.name === 'readonly')!.id;
    const created = await call(stack.domain, 'POST', '/api/v1/web-sessions', {
      token,
      body: {
        projectId: stack.projectId,
        resourceId,
        accountId,
        duration: '1h',
      },
    });
    if (created.status !== 201) throw new Error(`web session refused: ${created.text}`);
    const base = `/api/v1/web-sessions/${created.body.id}/tables/public/bench_rows`;

    for (const [label, body] of [
      ['by primary key', { limit: 100 }],
      ['sorted on created_at desc', { limit: 100, sort: [{ column: 'created_at', direction: 'desc' }] }],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        const page = await call(stack.domain, 'POST', `${base}/rows`, {
          token,
          body,
        });
        times.push(performance.now() - t0);
        if (page.status !== 200 || page.body.rows.length !== 100) throw new Error(`unexpected rows answer ${page.status} ${page.text.slice(0, 200)}`);
      }
      const s = stats(times);
      print(
        `web access first page (100 rows, ${label}) of a ${rows.toLocaleString('en')}-row table: median ${s.median.toFixed(1)} ms, worst ${s.worst.toFixed(1)} ms, first ${s.first.toFixed(1)} ms over loopback (budget 300 ms)`,
      );
    }

    const pid = stack.server.child.pid!;
    const before = await rssBytes(pid);
    let peak = before;
    const sampler = setInterval(
      () =>
        void rssBytes(pid).then(
          (b) => (peak = Math.max(peak, b)),
          () => undefined,
        ),
      20,
    );
    const t0 = performance.now();
    const res = await request(`${stack.domain}${base}/export?format=csv`, {
      headers: { authorization: `Bearer ${token}` },
    });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length;
      for (const byte of chunk as Buffer) if (byte === 10) lines += 1;
    }
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    if (res.statusCode !== 200 || lines !== rows + 1) throw new Error(`export answered ${res.statusCode} with ${lines} lines`);

    const d0 = performance.now();
    const direct = await run(
      'sh',
      [
        '-c',
        `psql -X -q -h ${stack.pg.host} -p ${stack.pg.port} -U ${stack.pg.superuser} -d shop -c "COPY (SELECT * FROM bench_rows ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)" | wc -c`,
      ],
      {
        env: { ...process.env, PGPASSWORD: stack.pg.superuserPassword },
      },
    );
    const directSeconds = (performance.now() - d0) / 1000;
    const mb = bytes / 1024 / 1024;
    print(
      `web access export CSV of ${rows.toLocaleString('en')} rows (${mb.toFixed(0)} MB): ${(rows / seconds).toFixed(0)} rows/s, ${(mb / seconds).toFixed(1)} MB/s in ${seconds.toFixed(1)} s; ` +
        `psql COPY direct: ${(Number(direct.stdout.trim()) / 1024 / 1024 / directSeconds).toFixed(1)} MB/s in ${directSeconds.toFixed(1)} s (ratio ${(directSeconds / seconds).toFixed(2)})`,
    );
    print(
      `web access export: server RSS ${(before / 1024 / 1024).toFixed(0)} MB before, peak ${(peak / 1024 / 1024).toFixed(0)} MB during (+${((peak - before) / 1024 / 1024).toFixed(0)} MB)`,
    );
  } finally {
    await stack.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '1000000' } },
  });
  await webAccessBench((line) => process.stdout.write(`${line}\n`), Number(values.rows));
  process.exit(0);
}
