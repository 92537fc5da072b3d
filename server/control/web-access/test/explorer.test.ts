/**
 * Web Access, the Data Explorer (issue 12), over the real data path: control plane → relay →
 * gateway → PostgreSQL with the demo's `shop` data. Hostile names and values, cell encoding,
 * staged edits (ROW_CHANGED), export against psql's COPY, the session log, and a scan of
 * every response for the database passwords.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.ts';
import { WebClient } from './client.ts';
import { startWebStack, type WebStack } from './web-stack.ts';

const run = promisify(execFile);
const HOSTILE_SCHEMA = 'we"ird; --schema';
const HOSTILE_TABLE = 'ta"ble; drop table customers; --';
const HOSTILE_COLUMN = 'co"l; --';
const UNICODE_COLUMN = 'ünï /*c*/';
const XSS = '<img src=x onerror=alert(1)>';

let stack: WebStack;
let web: WebClient;
let token: string;
let id: string;
let sessionId: string;

const path = (schema: string, table: string, rest: string) =>
  `/api/v1/web-sessions/${id}/tables/${encodeURIComponent(schema)}/${encodeURIComponent(table)}/${rest}`;

beforeAll(async () => {
  stack = await startWebStack({ webMaxRowsPerResult: 50 });
  web = new WebClient(stack.domain);
  token = stack.adminToken;
  await stack.pg.query(
    `CREATE SCHEMA "we""ird; --schema";
     CREATE TABLE "we""ird; --schema"."ta""ble; drop table customers; --" (id int primary key, "co""l; --" text, "ünï /*c*/" text);
     INSERT INTO "we""ird; --schema"."ta""ble; drop table customers; --" VALUES (1, 'it''s; --', 'x'), (2, '${XSS}', NULL), (3, '', 'ö');
     GRANT USAGE ON SCHEMA "we""ird; --schema" TO readonly, readwrite;
     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "we""ird; --schema" TO readwrite;
     CREATE TABLE public.kinds (id int primary key, j jsonb, b bytea, arr int[], tarr text[], ts timestamptz, e text, n text, big int8, num numeric, flag boolean, long text, f float8);
     INSERT INTO public.kinds VALUES (1, '{"a": [1, 2]}', '\\xdeadbeef', '{1,NULL,3}', '{"a,b",NULL}', '2024-05-01 12:00:00+00', '', NULL, 9007199254740993, 1.10, true, repeat('x', 5000), 'NaN');
     CREATE TABLE public.nokey (a int, b text); INSERT INTO public.nokey VALUES (1, 'one');
     CREATE VIEW public.customer_names AS SELECT id, name FROM customers;
     CREATE TABLE public.big (id int primary key, label text); INSERT INTO public.big SELECT g, 'row ' || g FROM generate_series(1, 20000) g; ANALYZE public.big;
     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO readwrite;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO readonly;`,
    'shop',
  );
  const created = await web.api('POST', '/api/v1/web-sessions', token, {
    projectId: stack.projectId,
    resourceId: stack.resourceId,
    accountId: stack.accountIds.readwrite,
    duration: '30m',
  });
  if (created.status !== 201) throw new Error(created.text);
  id = created.body.id;
  sessionId = created.body.sessionId;
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe('issue 12: Data Explorer', () => {
  it('a web session is a session of kind web with its limits; the schema tree, columns and keyset pages come through the gateway', async () => {
    const listed = await web.api('GET', '/api/v1/sessions?status=active', token);
    expect(listed.body.sessions.find((s: any) => s.id === sessionId)).toMatchObject({
      kind: 'web',
      status: 'active',
      account: { name: 'readwrite' },
    });

    const schema = await web.api('GET', `/api/v1/web-sessions/${id}/schema`, token);
    expect(schema.status, schema.text).toBe(200);
    const pub = schema.body.schemas.find((s: any) => s.name === 'public');
    expect(pub.relations.find((r: any) => r.name === 'customers')).toMatchObject({ kind: 'table', hasPrimaryKey: true });
    expect(pub.relations.find((r: any) => r.name === 'customer_names')).toMatchObject({ kind: 'view', hasPrimaryKey: false });
    expect(pub.relations.find((r: any) => r.name === 'big')).toMatchObject({
      estimatedRows: 20000,
    });
    expect(schema.body.schemas.find((s: any) => s.name === HOSTILE_SCHEMA).relations[0]).toMatchObject({ name: HOSTILE_TABLE, kind: 'table' });

    const catalog = await web.api('GET', `/api/v1/web-sessions/${id}/catalog`, token);
    const customers = catalog.body.schemas.find((s: any) => s.name === 'public').tables.find((t: any) => t.name === 'customers');
    expect(customers).toEqual({
      name: 'customers',
      kind: 'table',
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'name', type: 'text' },
        { name: 'email', type: 'text' },
        { name: 'created_at', type: 'timestamp with time zone' },
      ],
    });

    const columns = await web.api('GET', path('public', 'customers', 'columns'), token);
    expect(columns.body).toMatchObject({
      editable: true,
      columns: [
        { name: 'id', type: 'integer', nullable: false, primaryKeyPosition: 1 },
        { name: 'name', primaryKeyPosition: null },
        { name: 'email' },
        { name: 'created_at', type: 'timestamp with time zone' },
      ],
    });
    for (const [table, reason] of [
      ['customer_names', /view/],
      ['nokey', /no primary key/],
    ] as const) {
      const ro = await web.api('GET', path('public', table, 'columns'), token);
      expect(ro.body.editable).toBe(false);
      expect(ro.body.readOnlyReason).toMatch(reason);
    }

    const body = {
      filters: [{ column: 'name', op: 'ILIKE', value: '%a%' }],
      sort: [{ column: 'name', direction: 'desc' }],
      limit: 2,
    };
    const first = await web.api('POST', path('public', 'customers', 'rows'), token, body);
    expect(first.status, first.text).toBe(200);
    expect(first.body.rows.map((r: any[]) => r[1])).toEqual(['Grace Hopper', 'Edsger Dijkstra']);
    expect(first.body.total).toEqual({ count: 4, exact: true });
    const second = await web.api('POST', path('public', 'customers', 'rows'), token, { ...body, after: first.body.next });
    expect(second.status, second.text).toBe(200);
    expect(second.body.rows.map((r: any[]) => r[1])).toEqual(['Barbara Liskov', 'Ada Lovelace']);
    expect(second.body.next).toBeUndefined();

    // Over the exact-count threshold: an estimate, marked; the page is capped at --web-max-rows (50).
    const big = await web.api('POST', path('public', 'big', 'rows'), token, {
      limit: 500,
      sort: [{ column: 'id', direction: 'desc' }],
    });
    expect(big.body.rows).toHaveLength(50);
    expect(big.body.rows[0][0]).toBe(20000);
    expect(big.body.total).toEqual({ count: 20000, exact: false });
    const filtered = await web.api('POST', path('public', 'big', 'rows'), token, {
      limit: 10,
      filters: [
        { column: 'id', op: 'IN', value: [5, 7, 9] },
        { column: 'label', op: 'IS NOT NULL' },
      ],
    });
    expect(filtered.body.rows.map((r: any[]) => r[0])).toEqual([5, 7, 9]);

    // A table without a primary key pages by offset.
    const nokey = await web.api('POST', path('public', 'nokey', 'rows'), token, { limit: 10 });
    expect(nokey.body.rows).toEqual([[1, 'one']]);
  });

  it('cells are encoded faithfully: NULL apart from empty, json values, bytea hex, arrays, timestamptz with zone, long text cut', async () => {
    const res = await web.api('POST', path('public', 'kinds', 'rows'), token, {
      limit: 1,
    });
    const [row] = res.body.rows;
    expect(row).toEqual([
      1,
      { a: [1, 2] },
      '\\xdeadbeef',
      [1, null, 3],
      ['a,b', null],
      expect.stringMatching(/^2024-05-01 12:00:00\+00$/),
      '',
      null,
      '9007199254740993',
      '1.10',
      true,
      { truncated: true, length: 5000, value: 'x'.repeat(2000) },
      'NaN',
    ]);
    const whole = await web.api('POST', path('public', 'kinds', 'cell'), token, { key: { id: 1 }, column: 'long' });
    expect(whole.body.value).toBe('x'.repeat(5000));
  });

  it('issue 12 injection: hostile schema, table and column names and filter values are quoted or bound, never spliced', async () => {
    const cols = await web.api('GET', path(HOSTILE_SCHEMA, HOSTILE_TABLE, 'columns'), token);
    expect(cols.status, cols.text).toBe(200);
    expect(cols.body.columns.map((c: any) => c.name)).toEqual(['id', HOSTILE_COLUMN, UNICODE_COLUMN]);
    const hostileValues = ["it's; --", "'; drop table customers; --", "x' or '1'='1", '/* */ 1; select 1', '\\', '$$', 'ö'];
    for (const value of hostileValues) {
      const res = await web.api('POST', path(HOSTILE_SCHEMA, HOSTILE_TABLE, 'rows'), token, {
        filters: [{ column: HOSTILE_COLUMN, op: '=', value }],
        sort: [{ column: UNICODE_COLUMN, direction: 'desc' }],
        limit: 10,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.rows.map((r: any[]) => r[0])).toEqual(value === "it's; --" ? [1] : []);
    }
    const like = await web.api('POST', path(HOSTILE_SCHEMA, HOSTILE_TABLE, 'rows'), token, {
      filters: [{ column: UNICODE_COLUMN, op: 'LIKE', value: "%' or 1=1 --" }],
      limit: 10,
    });
    expect(like.body.rows).toEqual([]);
    // The XSS string is data: it comes back as the same text.
    const xss = await web.api('POST', path(HOSTILE_SCHEMA, HOSTILE_TABLE, 'rows'), token, { filters: [{ column: 'id', op: '=', value: 2 }], limit: 1 });
    expect(xss.body.rows[0]).toEqual([2, XSS, null]);
    // A column name that is not the table's is refused, not spliced.
    const unknown = await web.api('POST', path(HOSTILE_SCHEMA, HOSTILE_TABLE, 'rows'), token, {
      sort: [{ column: 'id; drop table customers', direction: 'asc' }],
      limit: 1,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('GATEHOUSE_ERR_INVALID_INPUT');
    const missing = await web.api('GET', path('public', 'customers"; drop table customers; --', 'columns'), token);
    expect(missing.status).toBe(404);
    // Edits through hostile names and values.
    const applied = await web.api('POST', path(HOSTILE_SCHEMA, HOSTILE_TABLE, 'changes'), token, {
      changes: [
        {
          op: 'insert',
          values: {
            id: 4,
            [HOSTILE_COLUMN]: "'); drop table customers; --",
            [UNICODE_COLUMN]: '*/ --',
          },
        },
        {
          op: 'update',
          key: { id: 1 },
          values: { [UNICODE_COLUMN]: "y'; --" },
          original: {
            id: 1,
            [HOSTILE_COLUMN]: "it's; --",
            [UNICODE_COLUMN]: 'x',
          },
        },
      ],
    });
    expect(applied.status, applied.text).toBe(200);
    const check = await stack.pg.query(
      `SELECT id, "co""l; --" AS c, "ünï /*c*/" AS u FROM "we""ird; --schema"."ta""ble; drop table customers; --" WHERE id IN (1, 4) ORDER BY id`,
      'shop',
    );
    expect(check.rows).toEqual([
      { id: 1, c: "it's; --", u: "y'; --" },
      { id: 4, c: "'); drop table customers; --", u: '*/ --' },
    ]);
    expect((await stack.pg.query('SELECT count(*)::int AS n FROM customers', 'shop')).rows[0].n).toBe(4);
  });

  it('staged changes: preview shows the statements; insert, update and delete apply in one transaction; a row changed since read is reported, not overwritten', async () => {
    const before = await web.api('POST', path('public', 'products', 'rows'), token, { limit: 10 });
    const [kb, mouse] = before.body.rows as any[][];
    const names = before.body.columns.map((c: any) => c.name);
    const original = (row: any[]) => Object.fromEntries(names.map((n: string, i: number) => [n, row[i]]));
    const changes = [
      {
        op: 'update',
        key: { id: kb[0] },
        values: { price_cents: 9900 },
        original: original(kb),
      },
      { op: 'delete', key: { id: mouse[0] }, original: original(mouse) },
      {
        op: 'insert',
        values: { sku: 'HD-04', name: "Dev's headset", price_cents: 4500 },
      },
    ];
    // The mouse has orders: delete its orders first through the session to keep the FK happy.
    await web.api('POST', path('public', 'orders', 'changes'), token, {
      changes: (await ordersOf(mouse[0])).map((o) => ({
        op: 'delete',
        key: { id: o },
        original: {},
      })),
    });
    const preview = await web.api('POST', path('public', 'products', 'changes'), token, { changes, preview: true });
    expect(preview.body.statements).toEqual([
      `update "public"."products" set "price_cents" = '9900' where "id" = '${kb[0]}' and "id" is not distinct from '${kb[0]}' and "sku" is not distinct from 'KB-01' and "name" is not distinct from 'Mechanical keyboard' and "price_cents" is not distinct from '12900';`,
      `delete from "public"."products" where "id" = '${mouse[0]}' and "id" is not distinct from '${mouse[0]}' and "sku" is not distinct from 'MS-02' and "name" is not distinct from 'Trackball mouse' and "price_cents" is not distinct from '5900';`,
      `insert into "public"."products" ("sku", "name", "price_cents") values ('HD-04', 'Dev''s headset', '4500');`,
    ]);
    expect((await stack.pg.query('SELECT price_cents FROM products WHERE sku = $$KB-01$$', 'shop')).rows[0].price_cents).toBe(12900);
    const applied = await web.api('POST', path('public', 'products', 'changes'), token, { changes });
    expect(applied.body).toEqual({ applied: 3 });
    const rows = await stack.pg.query('SELECT sku, price_cents FROM products ORDER BY id', 'shop');
    expect(rows.rows).toEqual([
      { sku: 'KB-01', price_cents: 9900 },
      { sku: 'MN-03', price_cents: 32900 },
      { sku: 'HD-04', price_cents: 4500 },
    ]);

    // Someone else changes the monitor after we read it: our update and the insert before it are not applied.
    const read = await web.api('POST', path('public', 'products', 'rows'), token, { filters: [{ column: 'sku', op: '=', value: 'MN-03' }], limit: 1 });
    await stack.pg.query(`UPDATE products SET price_cents = 1 WHERE sku = 'MN-03'`, 'shop');
    const conflict = await web.api('POST', path('public', 'products', 'changes'), token, {
      changes: [
        {
          op: 'insert',
          values: { sku: 'XX-99', name: 'never', price_cents: 1 },
        },
        {
          op: 'update',
          key: { id: read.body.rows[0][0] },
          values: { price_cents: 2 },
          original: original(read.body.rows[0]),
        },
      ],
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      error: { code: 'GATEHOUSE_ERR_ROW_CHANGED' },
      change: 1,
      key: { id: read.body.rows[0][0] },
    });
    expect((await stack.pg.query(`SELECT price_cents FROM products WHERE sku = 'MN-03'`, 'shop')).rows[0].price_cents).toBe(1);
    expect((await stack.pg.query(`SELECT count(*)::int AS n FROM products WHERE sku = 'XX-99'`, 'shop')).rows[0].n).toBe(0);

    const readOnly = await web.api('POST', path('public', 'customer_names', 'changes'), token, { changes: [{ op: 'delete', key: { id: 1 }, original: {} }] });
    expect(readOnly.status).toBe(409);
    expect(readOnly.body.error).toMatchObject({
      code: 'GATEHOUSE_ERR_READ_ONLY',
      message: expect.stringMatching(/view/),
    });
    const failing = await web.api('POST', path('public', 'products', 'changes'), token, {
      changes: [
        {
          op: 'insert',
          values: { sku: 'KB-01', name: 'dup', price_cents: 1 },
        },
      ],
    });
    expect(failing.status).toBe(422);
    expect(failing.body).toMatchObject({
      error: { code: 'GATEHOUSE_ERR_QUERY_FAILED' },
      sqlstate: '23505',
    });
  });

  it('export streams CSV equal to psql COPY … CSV HEADER, and JSON', async () => {
    const res = await request(
      `${stack.domain}${path(HOSTILE_SCHEMA, HOSTILE_TABLE, 'export')}?format=csv&sort=${encodeURIComponent(JSON.stringify([{ column: 'id', direction: 'asc' }]))}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const csv = await res.body.text();
    web.seen.push(csv);
    const copy = await run(
      'psql',
      [
        '-X',
        '-q',
        '-h',
        stack.pg.host,
        '-p',
        String(stack.pg.port),
        '-U',
        stack.pg.superuser,
        '-d',
        'shop',
        '-c',
        `COPY (SELECT * FROM "we""ird; --schema"."ta""ble; drop table customers; --" ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`,
      ],
      { env: { ...process.env, PGPASSWORD: stack.pg.superuserPassword } },
    );
    expect(csv).toBe(copy.stdout);

    const json = await request(`${stack.domain}${path('public', 'kinds', 'export')}?format=json`, { headers: { authorization: `Bearer ${token}` } });
    const parsed = JSON.parse(await json.body.text());
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({
      id: 1,
      j: { a: [1, 2] },
      n: null,
      e: '',
    });
    expect(parsed[0].long).toBe('x'.repeat(5000));

    const big = await request(
      `${stack.domain}${path('public', 'big', 'export')}?format=csv&filters=${encodeURIComponent(JSON.stringify([{ column: 'id', op: '<=', value: 15000 }]))}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    const lines = (await big.body.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(15001);
    expect(lines[15000]).toBe('15000,row 15000');
  });

  it('every statement Web Access ran is in the session log, recorded at the gateway', async () => {
    await waitFor(async () => {
      const logs = await web.api('GET', `/api/v1/sessions/${sessionId}/logs?limit=1000`, token);
      const sql = logs.body.events.filter((e: any) => e.type === 'statement').map((e: any) => e.sql as string);
      return (
        sql.some((s: string) => s.includes('update "public"."products" set "price_cents"')) && sql.some((s: string) => s.includes('from "public"."customers"'))
      );
    }, 10_000);
    const logs = await web.api('GET', `/api/v1/sessions/${sessionId}/logs?limit=1000`, token);
    const connect = logs.body.events.find((e: any) => e.type === 'connect');
    expect(connect).toMatchObject({ applicationName: 'Gatehouse Web Access' });
  });

  it('issue 12 password scan: no response of the whole web session carries a database password', () => {
    expect(web.seen.length).toBeGreaterThan(20);
    for (const secret of [stack.roles.readwrite.password, stack.roles.readonly.password, stack.pg.superuserPassword]) {
      for (const text of web.seen) expect(text.includes(secret)).toBe(false);
    }
  });

  it('a database that refuses the connection is said at once (502 with its SQLSTATE), and the web session is ended, not left open', async () => {
    const { account } = (
      await web.api('POST', `/api/v1/resources/${stack.resourceId}/accounts`, token, {
        name: 'broken',
        username: stack.roles.readonly.username,
        password: 'not the password',
      })
    ).body;
    const refused = await web.api('POST', '/api/v1/web-sessions', token, {
      projectId: stack.projectId,
      resourceId: stack.resourceId,
      accountId: account.id,
      duration: '10m',
    });
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatchObject({ code: 'GATEHOUSE_ERR_UPSTREAM_CONNECT', message: expect.stringContaining('28P01') });
    const sessions = await web.api('GET', '/api/v1/sessions?status=active', token);
    expect(sessions.body.sessions.filter((s: any) => s.account.id === account.id)).toEqual([]);
  });

  it('DELETE ends the web session: later calls answer 410 and the session shows ended', async () => {
    expect((await web.api('DELETE', `/api/v1/web-sessions/${id}`, token)).status).toBe(204);
    const after = await web.api('GET', `/api/v1/web-sessions/${id}/schema`, token);
    expect(after.status).toBe(410);
    expect(after.body.error.code).toBe('GATEHOUSE_ERR_SESSION_ENDED');
    expect((await web.api('GET', `/api/v1/sessions/${sessionId}`, token)).body.session.status).toBe('ended');
  });
});

async function ordersOf(productId: number): Promise<number[]> {
  const res = await web.api('POST', path('public', 'orders', 'rows'), token, {
    filters: [{ column: 'product_id', op: '=', value: productId }],
    limit: 50,
  });
  return res.body.rows.map((r: any[]) => r[0] as number);
}
