/**
 * Web Access (issue 12) against the whole product as real processes: embedded PostgreSQL with
 * the demo's `shop` data, gatehouse-server and an enrolled gateway. The control plane is the
 * PostgreSQL client; every statement goes through the relay and the gateway, which records it.
 */
import { request } from 'undici';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { call, login } from '../../server/control/test/helpers.ts';

let stack: Stack;
let admin: string;
let resourceId: string;
const accountIds: Record<string, string> = {};

/** Every HTTP body and WebSocket message seen by the tests (the password scan reads them). */
const seen: string[] = [];

async function api<T = any>(method: string, path: string, token: string, body?: unknown) {
  const res = await call<T>(stack.domain, method, path, { token, body });
  seen.push(res.text);
  return res;
}

async function startWeb(token: string, account = 'readwrite', extra: Record<string, unknown> = {}) {
  const res = await api('POST', '/api/v1/web-sessions', token, { projectId: stack.projectId, resourceId, accountId: accountIds[account], duration: '30m', ...extra });
  return res;
}

/** A terminal WebSocket; messages collected in order. */
async function openTerminal(token: string, id: string) {
  const ws = new WebSocket(`${stack.domain.replace(/^http/, 'ws')}/api/v1/web-sessions/${id}/terminal`, ['gatehouse.terminal.v1', `bearer.${token}`]);
  const messages: any[] = [];
  const waiters: Array<{ test: (m: any) => boolean; resolve: (m: any) => void }> = [];
  ws.on('message', (data) => {
    const text = String(data);
    seen.push(text);
    const m = JSON.parse(text);
    messages.push(m);
    for (const w of [...waiters]) if (w.test(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = (test: (m: any) => boolean, ms = 15_000) =>
    new Promise<any>((resolve, reject) => {
      const found = messages.find(test);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no such terminal message; got ${JSON.stringify(messages.slice(-5))}`)), ms);
      waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  /** Runs a script; resolves with the messages of that run, up to its `done`. */
  const run = async (sql: string, runId = `r${Math.random().toString(36).slice(2)}`) => {
    const from = messages.length;
    ws.send(JSON.stringify({ type: 'run', id: runId, sql }));
    await next((m) => m.type === 'done' && m.id === runId);
    return messages.slice(from);
  };
  return { ws, messages, next, run };
}

beforeAll(async () => {
  stack = await startStack({ pgTls: false, env: { GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_WEB_MAX_ROWS: '50' } });
  admin = await stack.adminToken();
  const resources = await stack.api<{ resources: { id: string; name: string }[] }>('GET', `/projects/${stack.projectId}/resources`);
  resourceId = resources.resources.find((r) => r.name === stack.resource)!.id;
  const accounts = await stack.api<{ accounts: { id: string; name: string }[] }>('GET', `/resources/${resourceId}/accounts`);
  for (const a of accounts.accounts) accountIds[a.name] = a.id;
  await stack.pg.query(
    `CREATE SCHEMA "we""ird; --schema";
     CREATE TABLE "we""ird; --schema"."ta""ble; drop table customers; --" (id int primary key, "co""l; --" text, "ünï /*c*/" text);
     INSERT INTO "we""ird; --schema"."ta""ble; drop table customers; --" VALUES (1, 'it''s; --', 'x'), (2, '<img src=x onerror=alert(1)>', NULL);
     GRANT USAGE ON SCHEMA "we""ird; --schema" TO readonly, readwrite;
     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "we""ird; --schema" TO readwrite;
     CREATE TABLE public.kinds (id int primary key, j jsonb, b bytea, arr int[], tarr text[], ts timestamptz, e text, n text, big int8, num numeric, flag boolean, long text);
     INSERT INTO public.kinds VALUES (1, '{"a": [1, 2]}', '\\xdeadbeef', '{1,NULL,3}', '{"a,b",NULL}', '2024-05-01 12:00:00+00', '', NULL, 9007199254740993, 1.10, true, repeat('x', 5000));
     CREATE TABLE public.nokey (a int, b text); INSERT INTO public.nokey VALUES (1, 'one');
     CREATE VIEW public.customer_names AS SELECT id, name FROM customers;
     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO readwrite;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO readonly;`,
    'shop',
  );
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

describe('issue 12: web sessions', () => {
  it('a web session is a session of kind web; the Data Explorer reads the schema tree, columns and rows through the gateway', async () => {
    const created = await startWeb(admin);
    expect(created.status, created.text).toBe(201);
    const web = created.body;
    expect(web).toMatchObject({ resource: { id: resourceId, name: stack.resource }, account: { name: 'readwrite' }, limits: { maxRowsPerResult: 50 } });

    const listed = await api('GET', '/api/v1/sessions?status=active', admin);
    expect(listed.body.sessions.find((s: any) => s.id === web.sessionId)).toMatchObject({ kind: 'web', status: 'active' });

    const schema = await api('GET', `/api/v1/web-sessions/${web.id}/schema`, admin);
    expect(schema.status, schema.text).toBe(200);
    const pub = schema.body.schemas.find((s: any) => s.name === 'public');
    expect(pub.relations.find((r: any) => r.name === 'customers')).toMatchObject({ kind: 'table', hasPrimaryKey: true });
    expect(pub.relations.find((r: any) => r.name === 'customer_names')).toMatchObject({ kind: 'view', hasPrimaryKey: false });

    const columns = await api('GET', `/api/v1/web-sessions/${web.id}/tables/public/customers/columns`, admin);
    expect(columns.body).toMatchObject({ editable: true, columns: [{ name: 'id', type: 'integer', nullable: false, primaryKeyPosition: 1 }, { name: 'name', primaryKeyPosition: null }, { name: 'email' }, { name: 'created_at', type: 'timestamp with time zone' }] });
    const view = await api('GET', `/api/v1/web-sessions/${web.id}/tables/public/customer_names/columns`, admin);
    expect(view.body.editable).toBe(false);
    expect(view.body.readOnlyReason).toMatch(/view/);

    const rows = await api('POST', `/api/v1/web-sessions/${web.id}/tables/public/customers/rows`, admin, { filters: [{ column: 'name', op: 'ILIKE', value: '%a%' }], sort: [{ column: 'name', direction: 'desc' }], limit: 2 });
    expect(rows.status, rows.text).toBe(200);
    expect(rows.body.rows.map((r: any[]) => r[1])).toEqual(['Grace Hopper', 'Edsger Dijkstra']);
    expect(rows.body.total).toEqual({ count: 4, exact: true });
    const page2 = await api('POST', `/api/v1/web-sessions/${web.id}/tables/public/customers/rows`, admin, { filters: [{ column: 'name', op: 'ILIKE', value: '%a%' }], sort: [{ column: 'name', direction: 'desc' }], limit: 2, after: rows.body.next });
    expect(page2.body.rows.map((r: any[]) => r[1])).toEqual(['Barbara Liskov', 'Ada Lovelace']);
    expect(page2.body.next).toBeUndefined();

    const ended = await api('DELETE', `/api/v1/web-sessions/${web.id}`, admin);
    expect(ended.status).toBe(204);
    const after = await api('GET', `/api/v1/web-sessions/${web.id}/schema`, admin);
    expect(after.status).toBe(410);
    expect(after.body.error.code).toBe('GATEHOUSE_ERR_SESSION_ENDED');
    const record = await api('GET', `/api/v1/sessions/${web.sessionId}`, admin);
    expect(record.body.session.status).toBe('ended');
  });
});
