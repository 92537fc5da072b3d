/**
 * The core promise, end to end on real parts: `gatehouse db access` gives a local URL that
 * real clients use with no password, as the account, through the relay and the gateway,
 * and every statement lands in the session log.
 */
import { connect } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import postgres from 'postgres';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { createCancelRequest, createSSLRequest, parseBackendKeyData, PROTOCOL_3_2 } from '../../proxy-core/src/protocol/index.ts';
import { Access, CliUser, errorOf, hasBinary, psql, RawClient, waitUntil } from './helpers.ts';

const execFileP = promisify(execFile);
const HAS_PSQL = await hasBinary('psql');
const HAS_PGBENCH = await hasBinary('pgbench');

let stack: Stack;
let user: CliUser;
let rw: Access;

beforeAll(async () => {
  stack = await startStack({ env: { GATEHOUSE_LOG_LEVEL: 'debug' } });
  user = await CliUser.login(stack);
  rw = await user.access(stack, { account: 'readwrite' });
}, 120_000);

afterAll(async () => {
  await rw?.stop();
  await user?.close();
  await stack?.close();
});

describe('gatehouse db access', () => {
  it('prints a password-less local URL for the account', () => {
    expect(rw.url).toMatch(/^postgresql:\/\/readwrite@127\.0\.0\.1:\d+\/shop$/);
    expect(rw.port).toBeGreaterThan(0);
    expect(rw.sessionId).toMatch(/[0-9a-f-]{36}/);
    expect(new Date(rw.expiresAt).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  });

  it.skipIf(!HAS_PSQL)('psql gets in as the account with no password, with and without sslmode=require', async () => {
    const plain = await psql(rw.url, 'select current_user, current_database()', [], { PGSSLMODE: 'disable' });
    expect(plain.stderr).toBe('');
    expect(plain.stdout.trim()).toBe('readwrite|shop');
    const tls = await psql(`${rw.url}?sslmode=require`, 'select count(*) from customers');
    expect(tls.stdout.trim()).toBe('4');
  });

  it('ignores the user name a client sends: the account decides who you are', async () => {
    const client = new pg.Client({ connectionString: rw.url.replace('readwrite@', 'postgres@') });
    await client.connect();
    const { rows } = await client.query('select current_user as u');
    await client.end();
    expect(rows[0].u).toBe('readwrite');
  });

  it('refuses another database with a FATAL that names the right one', async () => {
    const client = new pg.Client({ connectionString: rw.url.replace(/\/shop$/, '/postgres') });
    const err = await client.connect().then(
      () => undefined,
      (e: { code?: string; message: string }) => e,
    );
    expect(err?.code).toBe('3D000');
    expect(err?.message).toContain('shop');
  });

  it('node-postgres: extended protocol with parameters, and errors keep the connection usable', async () => {
    const client = new pg.Client({ connectionString: rw.url });
    await client.connect();
    const { rows } = await client.query('select name from customers where email = $1', ['grace@example.com']);
    expect(rows).toEqual([{ name: 'Grace Hopper' }]);
    const err = await client.query('select * from no_such_table').catch((e: { code: string }) => e);
    expect((err as { code: string }).code).toBe('42P01');
    const again = await client.query('select $1::int + 1 as n', [41]);
    expect(again.rows[0].n).toBe(42);
    await client.end();
  });

  it('postgres.js: COPY in and out', async () => {
    const sql = postgres(rw.url, { max: 1, onnotice: () => undefined });
    try {
      await sql`create temp table copy_target (id int, label text)`;
      const writable = await sql`copy copy_target from stdin`.writable();
      await new Promise<void>((resolve, reject) => {
        writable.on('error', reject);
        for (let i = 1; i <= 1000; i++) writable.write(`${i}\trow ${i}\n`);
        writable.end(() => resolve());
      });
      const [{ n }] = await sql<{ n: string }[]>`select count(*)::text as n from copy_target`;
      expect(n).toBe('1000');
      const readable = await sql`copy (select id from copy_target order by id) to stdout`.readable();
      let out = '';
      for await (const chunk of readable) out += chunk.toString();
      expect(out.trim().split('\n')).toHaveLength(1000);
    } finally {
      await sql.end();
    }
  });

  it('LISTEN/NOTIFY across two connections', async () => {
    const listener = new pg.Client({ connectionString: rw.url });
    const notifier = new pg.Client({ connectionString: rw.url });
    await listener.connect();
    await notifier.connect();
    const got = new Promise<string | undefined>((r) => listener.on('notification', (n) => r(n.payload)));
    await listener.query('listen gatehouse_test');
    await notifier.query("notify gatehouse_test, 'hello'");
    expect(await got).toBe('hello');
    await listener.end();
    await notifier.end();
  });

  it('streams a 100 MB result', async () => {
    const client = new pg.Client({ connectionString: rw.url });
    await client.connect();
    const { rows } = await client.query("select repeat('x', 1000) as r from generate_series(1, 100000)");
    await client.end();
    expect(rows).toHaveLength(100_000);
    expect(rows[99_999].r).toHaveLength(1000);
  });

  it('serves 50 concurrent connections, and one ending does not affect the others', async () => {
    const clients = Array.from({ length: 50 }, () => new pg.Client({ connectionString: rw.url }));
    await Promise.all(clients.map((c) => c.connect()));
    clients[0].on('error', () => undefined);
    // Kill one abruptly, mid-life: the rest carry on.
    (clients[0] as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const results = await Promise.all(clients.slice(1).map((c, i) => c.query('select $1::int as i', [i])));
    expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 49 }, (_, i) => i));
    await Promise.all(clients.slice(1).map((c) => c.end()));
  });

  it('answers a GSSENCRequest with N, then works', async () => {
    const raw = await RawClient.connect(rw.port);
    expect(await raw.gssencFirst()).toBe('N');
    const startup = await raw.startup({ user: 'whoever', database: 'shop', application_name: 'raw-gss' });
    expect(startup.at(-1)?.code).toBe(0x5a);
    const res = await raw.query('select current_user');
    expect(res.some((m) => m.code === 0x44 && m.payload.includes(Buffer.from('readwrite')))).toBe(true);
    raw.end();
  });

  it('negotiates protocol 3.2 with PostgreSQL 18 (long cancel key) and cancels with it', async () => {
    const raw = await RawClient.connect(rw.port);
    const startup = await raw.startup({ user: 'x', database: 'shop' }, PROTOCOL_3_2);
    const keyMsg = startup.find((m) => m.code === 0x4b);
    expect(keyMsg).toBeDefined();
    const key = parseBackendKeyData(keyMsg!.payload);
    expect(key.secretKey.length).toBeGreaterThan(4);
    raw.write(Buffer.from([0x51, 0, 0, 0, 4 + 'select pg_sleep(30)'.length + 1, ...Buffer.from('select pg_sleep(30)\0')]));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const cancel = connect(rw.port, '127.0.0.1');
    cancel.write(createCancelRequest(key.processId, key.secretKey));
    const res = await raw.untilReady(5_000);
    const err = res.find((m) => m.code === 0x45);
    expect(err && errorOf(err).code).toBe('57014');
    expect(Date.now() - started).toBeLessThan(1_000);
    cancel.destroy();
    raw.end();
  });

  it('cancels select pg_sleep(30) from node-postgres within a second', async () => {
    const client = new pg.Client({ connectionString: rw.url });
    await client.connect();
    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
    const pending = client.query('select pg_sleep(30)').then(
      () => undefined,
      (e: { code?: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const key = Buffer.alloc(4);
    key.writeInt32BE(secretKey);
    const cancel = connect(rw.port, '127.0.0.1', () => cancel.write(createCancelRequest(processID, key)));
    expect(await pending).toBe('57014');
    expect(Date.now() - started).toBeLessThan(1_000);
    cancel.destroy();
    await client.end();
  });

  it('sslmode=require works at the TLS level (the proxy answers S)', async () => {
    const raw = await RawClient.connect(rw.port);
    expect(await raw.negotiate(createSSLRequest())).toBe('S');
    raw.end();
  });

  it.skipIf(!HAS_PGBENCH)('pgbench runs through it', async () => {
    const direct = `postgresql://postgres@127.0.0.1:${stack.pg.port}/shop`;
    const env = { ...process.env, PGPASSWORD: stack.pg.superuserPassword };
    await execFileP('pgbench', ['-i', '-q', '-s', '1', direct], { env });
    await stack.pg.query('grant select, update, insert on pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history to readwrite', 'shop');
    const { stdout } = await execFileP('pgbench', ['-n', '-c', '4', '-j', '2', '-t', '50', rw.url], { env: { ...process.env, PGPASSWORD: '' } });
    expect(stdout).toMatch(/number of failed transactions: 0/);
    expect(stdout).toMatch(/number of transactions actually processed: 200\/200/);
  });

  it('records each statement with its outcome in the session log', async () => {
    const client = new pg.Client({ connectionString: rw.url, application_name: 'log-check' });
    await client.connect();
    await client.query("select 'logged-simple' as marker");
    await client.query('select $1::text as marker', ['logged-param']);
    await client.query('select * from missing_table_for_log').catch(() => undefined);
    await client.end();

    type Event = { type: string; sql?: string; params?: unknown; outcome?: { status: string; tag?: string; rows?: number; sqlstate?: string } };
    const events = await waitUntil(
      'the statements in the session log',
      async () => {
        const res = await user.run(['sessions', 'logs', rw.sessionId, '--json']);
        const evs = res.stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Event);
        return evs.some((e) => e.sql?.includes('missing_table_for_log')) ? evs : undefined;
      },
      15_000,
    );

    const simple = events.find((e) => e.sql?.includes('logged-simple'));
    expect(simple?.outcome).toMatchObject({ status: 'ok', tag: 'SELECT 1', rows: 1 });
    const param = events.find((e) => e.type === 'statement' && e.sql === 'select $1::text as marker');
    expect(param?.outcome).toMatchObject({ status: 'ok' });
    expect(param?.params).toBe('redacted');
    const failed = events.find((e) => e.sql?.includes('missing_table_for_log'));
    expect(failed?.outcome).toMatchObject({ status: 'error', sqlstate: '42P01' });
    expect(events.some((e) => e.type === 'connect')).toBe(true);
    expect(events.some((e) => e.type === 'disconnect')).toBe(true);

    const human = await user.run(['sessions', 'logs', rw.sessionId]);
    expect(human.code).toBe(0);
    expect(human.stdout, `the readable log of ${events.length} events (stderr: ${human.stderr})`).toContain('logged-simple');
  });

  it('never lets the database password reach the user: API, CLI, logs, proxy bytes', async () => {
    const secrets = [stack.roles.readwrite.password, stack.roles.readonly.password];
    // What a client receives from the local proxy over a whole session.
    const raw = await RawClient.connect(rw.port);
    await raw.startup({ user: 'x', database: 'shop' });
    await raw.query('select * from pg_stat_activity');
    await raw.query("select current_setting('application_name')");
    raw.end();
    // What the API returns for everything a user or admin can list.
    const resources = await stack.api<{ resources: Array<{ id: string }> }>('GET', `/projects/${stack.projectId}/resources`);
    const responses = [
      JSON.stringify(resources),
      JSON.stringify(await stack.api('GET', `/resources/${resources.resources[0].id}/accounts`)),
      JSON.stringify(await stack.api('GET', `/projects/${stack.projectId}/accounts`)),
      JSON.stringify(await stack.api('GET', `/sessions/${rw.sessionId}`)),
      JSON.stringify(await stack.api('GET', `/sessions/${rw.sessionId}/logs`)),
    ];
    const haystacks = [raw.received.toString('latin1'), ...responses, rw.stdout, rw.stderr, stack.server.output(), stack.gateway.output()];
    for (const secret of secrets) {
      for (const hay of haystacks) expect(hay.includes(secret)).toBe(false);
    }
    // The logs were really captured (debug level): the check above looked at something.
    expect(stack.gateway.output().length).toBeGreaterThan(100);
  });
});
