import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { FrontendCode } from '../protocol/constants.ts';
import type { StatementEvent, UnsequencedSessionEvent } from './events.ts';
import { MessageWalker } from '../protocol/message-walker.ts';
import { MAX_SQL_BYTES } from './payloads.ts';
import { createRecorder } from './recorder.ts';
import { startTee, type CapturedChunk } from './tee.fixture.ts';

type Statement = Omit<StatementEvent, 'seq'>;

let server: PgServer;

beforeAll(async () => {
  server = await startPostgres({ authMethod: 'scram-sha-256' });
  await server.query('CREATE TABLE items (id int PRIMARY KEY, name text)');
});
afterAll(async () => {
  await server?.stop();
});

/** Runs `drive` against a tee in front of the real server and returns the capture. */
async function capture(drive: (port: number) => Promise<void>): Promise<CapturedChunk[]> {
  const tee = await startTee(server);
  try {
    await drive(tee.port);
    await new Promise((r) => setTimeout(r, 50));
    return [...tee.chunks];
  } finally {
    await tee.close();
  }
}

function replay(chunks: CapturedChunk[], opts: { redact?: boolean; byteByByte?: boolean } = {}): UnsequencedSessionEvent[] {
  const events: UnsequencedSessionEvent[] = [];
  let clock = 0;
  const rec = createRecorder({
    sessionId: 's1',
    connectionId: 'c1',
    redactBindParams: opts.redact ?? true,
    emit: (e) => events.push(e),
    now: () => clock,
  });
  let bytesIn = 0;
  let bytesOut = 0;
  for (const c of chunks) {
    clock = c.t;
    const pieces = opts.byteByByte ? [...c.data].map((b) => Buffer.from([b])) : [c.data];
    for (const p of pieces) {
      if (c.dir === 'client') {
        bytesIn += p.length;
        rec.onClientData(p);
      } else {
        bytesOut += p.length;
        rec.onServerData(p);
      }
    }
  }
  rec.onClose('client', { bytesIn, bytesOut });
  return events;
}

function statements(events: UnsequencedSessionEvent[]): Statement[] {
  return events.filter((e): e is Statement => e.type === 'statement');
}

/** The fields a user reads in the session log. */
function summary(s: Statement): Record<string, unknown> {
  return { protocol: s.protocol, sql: s.sql, params: s.params, outcome: s.outcome, copy: s.copy, truncated: s.truncated };
}

function pgClient(port: number): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: server.superuserPassword, database: 'postgres' });
}

function sqlClient(port: number): postgres.Sql {
  return postgres({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: server.superuserPassword,
    database: 'postgres',
    ssl: false,
    max: 1,
    onnotice: () => {},
  });
}

describe('recorder on real captured traffic', () => {
  let simple: CapturedChunk[];
  let extended: CapturedChunk[];
  let pipelined: CapturedChunk[];
  let copy: CapturedChunk[];

  beforeAll(async () => {
    simple = await capture(async (port) => {
      const c = pgClient(port);
      await c.connect();
      await c.query('SELECT 1 AS a');
      await c.query('SELECT 1; SELECT 2 UNION SELECT 3');
      await c.query('SELECT * FROM missing_table').catch(() => undefined);
      await c.query("INSERT INTO items VALUES (1, 'a'), (2, 'b')");
      await c.query('');
      await c.end();
    });
    extended = await capture(async (port) => {
      const c = pgClient(port);
      await c.connect();
      await c.query('SELECT $1::int + $2::int AS s', [1, 2]);
      await c.query({ name: 'by_id', text: 'SELECT name FROM items WHERE id = $1', values: [1] });
      await c.query({ name: 'by_id', text: 'SELECT name FROM items WHERE id = $1', values: [2] });
      await c.query('SELECT length($1::bytea) AS n', [Buffer.from([1, 2, 3])]);
      await c.query('SELECT $1::int / 0', [7]).catch(() => undefined);
      await c.query('SELECT $1::text IS NULL', [null]);
      await c.end();
    });
    pipelined = await capture(async (port) => {
      const sql = sqlClient(port);
      await Promise.all([
        sql`SELECT ${1}::int AS x`,
        sql`SELECT ${2}::int AS x, pg_sleep(0.05)`,
        sql`SELECT * FROM nope_${sql.unsafe('table')}`.catch(() => undefined),
        sql`SELECT ${3}::int AS x`,
        sql`SELECT ${4}::int AS x`,
      ]);
      await sql.end();
    });
    copy = await capture(async (port) => {
      const sql = sqlClient(port);
      await sql`CREATE TABLE IF NOT EXISTS copy_t (id int, v text)`;
      const w = await sql`COPY copy_t FROM STDIN`.writable();
      await new Promise<void>((resolve, reject) => {
        w.on('error', reject);
        w.write('1\tone\n2\ttwo\n');
        w.write('3\tthree\n');
        w.end(resolve);
      });
      await new Promise((r) => setTimeout(r, 50));
      const r = await sql`COPY copy_t TO STDOUT`.readable();
      for await (const _ of r) void _;
      await sql.end();
    });
  });

  it('records simple queries with tags, row counts, errors and the empty query', () => {
    const got = statements(replay(simple)).map(summary);
    expect(got).toEqual(
      [
        { protocol: 'simple', sql: 'SELECT 1 AS a', outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 } },
        { protocol: 'simple', sql: 'SELECT 1; SELECT 2 UNION SELECT 3', outcome: { status: 'ok', tag: 'SELECT 2', rows: 2 } },
        {
          protocol: 'simple',
          sql: 'SELECT * FROM missing_table',
          outcome: { status: 'error', sqlstate: '42P01', message: 'relation "missing_table" does not exist' },
        },
        { protocol: 'simple', sql: "INSERT INTO items VALUES (1, 'a'), (2, 'b')", outcome: { status: 'ok', tag: 'INSERT 0 2', rows: 2 } },
        { protocol: 'simple', sql: '', outcome: { status: 'ok' } },
      ].map((e) => ({ params: undefined, copy: undefined, truncated: undefined, ...e })),
    );
  });

  it('records extended queries: named statements resolve to their SQL, params redacted by default', () => {
    const got = statements(replay(extended)).map((s) => [s.sql, s.params, s.outcome.status]);
    expect(got).toEqual([
      ['SELECT $1::int + $2::int AS s', 'redacted', 'ok'],
      ['SELECT name FROM items WHERE id = $1', 'redacted', 'ok'],
      ['SELECT name FROM items WHERE id = $1', 'redacted', 'ok'],
      ['SELECT length($1::bytea) AS n', 'redacted', 'ok'],
      ['SELECT $1::int / 0', 'redacted', 'error'],
      ['SELECT $1::text IS NULL', 'redacted', 'ok'],
    ]);
    const err = statements(replay(extended))[4].outcome;
    expect(err).toEqual({ status: 'error', sqlstate: '22012', message: 'division by zero' });
  });

  it('records bind parameters when not redacted: text as strings, binary as base64, NULL as null', () => {
    const got = statements(replay(extended, { redact: false }));
    expect(got.map((s) => s.params)).toEqual([['1', '2'], ['1'], ['2'], ['AQID'], ['7'], [null]]);
    expect(got[0]).toMatchObject({ protocol: 'extended', outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 } });
  });

  it('pairs pipelined extended queries (postgres.js) by order, one failing in the middle', () => {
    // the capture really is pipelined: some client chunk carries several Syncs
    let maxSyncsPerChunk = 0;
    for (const c of pipelined.filter((x) => x.dir === 'client')) {
      let n = 0;
      new MessageWalker(
        () => 0,
        (code) => (n += code === FrontendCode.Sync ? 1 : 0),
      ).push(c.data);
      maxSyncsPerChunk = Math.max(maxSyncsPerChunk, n);
    }
    expect(maxSyncsPerChunk).toBeGreaterThan(1);
    // postgres.js first fetches array types and sends the parameterless query meanwhile
    const got = statements(replay(pipelined, { redact: false }))
      .filter((s) => !s.sql.includes('pg_catalog.pg_type'))
      .map((s) => [s.sql, s.params, s.outcome.status]);
    expect(got).toEqual([
      ['SELECT * FROM nope_table', undefined, 'error'],
      ['SELECT $1::int AS x', ['1'], 'ok'],
      ['SELECT $1::int AS x, pg_sleep(0.05)', ['2'], 'ok'],
      ['SELECT $1::int AS x', ['3'], 'ok'],
      ['SELECT $1::int AS x', ['4'], 'ok'],
    ]);
  });

  it('records COPY in and out with row and byte totals', () => {
    const got = statements(replay(copy)).filter((s) => s.sql.startsWith('COPY'));
    expect(got.map(summary)).toEqual([
      {
        protocol: 'simple',
        sql: 'COPY copy_t FROM STDIN',
        params: undefined,
        truncated: undefined,
        outcome: { status: 'ok', tag: 'COPY 3', rows: 3 },
        copy: { direction: 'in', rows: 3, bytes: 20 },
      },
      {
        protocol: 'simple',
        sql: 'COPY copy_t TO STDOUT',
        params: undefined,
        truncated: undefined,
        outcome: { status: 'ok', tag: 'COPY 3', rows: 3 },
        copy: { direction: 'out', rows: 3, bytes: 20 },
      },
    ]);
  });

  it('records COPY driven by psql (simple protocol, COPY FROM STDIN and \\copy out)', async () => {
    const run = promisify(execFile);
    const chunks = await capture(async (port) => {
      const child = run(
        'psql',
        [
          '-X',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          'postgres',
          '-d',
          'postgres',
          '-c',
          'COPY copy_t FROM STDIN',
          '-c',
          'COPY (SELECT * FROM copy_t ORDER BY id) TO STDOUT',
        ],
        {
          env: { ...process.env, PGPASSWORD: server.superuserPassword, PGSSLMODE: 'disable' },
        },
      );
      child.child.stdin?.end('10\tten\n11\televen\n');
      const { stdout } = await child;
      expect(stdout).toContain('11\televen');
    });
    const got = statements(replay(chunks)).filter((s) => s.sql.startsWith('COPY'));
    expect(got.map((s) => [s.protocol, s.sql, s.outcome, s.copy?.direction, s.copy?.rows])).toEqual([
      ['simple', 'COPY copy_t FROM STDIN', { status: 'ok', tag: 'COPY 2', rows: 2 }, 'in', 2],
      ['simple', 'COPY (SELECT * FROM copy_t ORDER BY id) TO STDOUT', { status: 'ok', tag: 'COPY 5', rows: 5 }, 'out', 5],
    ]);
  });

  it('gives the same events when every chunk is cut byte by byte', () => {
    for (const chunks of [simple, extended, pipelined, copy]) {
      expect(replay(chunks, { byteByByte: true, redact: false })).toEqual(replay(chunks, { redact: false }));
    }
  });

  it('measures duration from the first byte sent to completion', () => {
    const slow = statements(replay(pipelined)).find((s) => s.sql.includes('pg_sleep'));
    expect(slow?.durationMs).toBeGreaterThanOrEqual(45);
    expect(slow?.durationMs).toBeLessThan(2000);
  });

  it('caps recorded SQL at 64 KiB and marks it truncated', async () => {
    const big = `SELECT '${'x'.repeat(100_000)}' IS NOT NULL AS ok`;
    const chunks = await capture(async (port) => {
      const c = pgClient(port);
      await c.connect();
      await c.query(big);
      await c.query(big.replace('IS NOT NULL', 'IS NULL'), []); // extended too
      await c.end();
    });
    const got = statements(replay(chunks));
    expect(got).toHaveLength(2);
    for (const s of got) {
      expect(s.truncated).toBe(true);
      expect(s.sql.length).toBe(MAX_SQL_BYTES);
      expect(s.outcome).toMatchObject({ status: 'ok', tag: 'SELECT 1' });
    }
  });

  it('emits connect and disconnect, and fails statements still in flight at close', () => {
    const events: UnsequencedSessionEvent[] = [];
    const rec = createRecorder({ sessionId: 's', connectionId: 'c', emit: (e) => events.push(e) });
    rec.onConnect({ applicationName: 'psql', clientAddress: '127.0.0.1:5000', backendPid: 42 });
    const q = Buffer.from('SELECT pg_sleep(10)\0');
    const header = Buffer.alloc(5);
    header[0] = FrontendCode.Query;
    header.writeInt32BE(q.length + 4, 1);
    rec.onClientData(Buffer.concat([header, q]));
    rec.onClose('server', { bytesIn: 25, bytesOut: 0 });
    expect(events.map((e) => e.type)).toEqual(['connect', 'statement', 'disconnect']);
    expect(events[0]).toMatchObject({ applicationName: 'psql', clientAddress: '127.0.0.1:5000', backendPid: 42 });
    expect(events[1]).toMatchObject({ sql: 'SELECT pg_sleep(10)', outcome: { status: 'error', sqlstate: '08006' } });
    expect(events[2]).toMatchObject({ reason: 'server', bytesIn: 25, bytesOut: 0 });
  });

  it('stops recording (without throwing into the splice) on a corrupt stream', () => {
    const events: UnsequencedSessionEvent[] = [];
    const rec = createRecorder({ sessionId: 's', connectionId: 'c', emit: (e) => events.push(e) });
    expect(() => rec.onClientData(Buffer.from([0x51, 0, 0, 0, 1, 0]))).not.toThrow();
    expect(() => rec.onServerData(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]))).not.toThrow();
    expect(events).toEqual([]);
  });
});

describe('recorder throughput', () => {
  it('parses a large result set and a large COPY at a rate far above the link', async () => {
    const chunks = await capture(async (port) => {
      const c = pgClient(port);
      await c.connect();
      await c.query("SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g");
      await c.end();
      const sql = sqlClient(port);
      await sql`CREATE TABLE IF NOT EXISTS bulk (id int, v text)`;
      const w = await sql`COPY bulk FROM STDIN`.writable();
      const line = `1\t${'y'.repeat(200)}\n`.repeat(500);
      await new Promise<void>((resolve, reject) => {
        w.on('error', reject);
        let i = 0;
        const pump = (): void => {
          while (i < 200) {
            i++;
            if (!w.write(line)) return void w.once('drain', pump);
          }
          w.end(resolve);
        };
        pump();
      });
      await sql.end();
    });
    const total = chunks.reduce((n, c) => n + c.data.length, 0);
    expect(total).toBeGreaterThan(40_000_000);
    const rounds = 5;
    let events = 0;
    const start = performance.now();
    for (let i = 0; i < rounds; i++) {
      const rec = createRecorder({ sessionId: 's', connectionId: 'c', emit: () => events++ });
      for (const c of chunks) {
        if (c.dir === 'client') rec.onClientData(c.data);
        else rec.onServerData(c.data);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const mbps = (total * rounds) / seconds / 1e6;
    console.log(`recorder throughput: ${mbps.toFixed(0)} MB/s over ${(total / 1e6).toFixed(1)} MB x ${rounds} (${chunks.length} chunks)`);
    expect(events).toBeGreaterThan(0);
    expect(mbps).toBeGreaterThan(200);
  });
});
