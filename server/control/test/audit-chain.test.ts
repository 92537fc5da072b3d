/**
 * The audit trail through a real server: every sign-in and admin change is chained, the
 * export filters and pages, the stream follows new events, and `gatehouse-server audit verify`
 * (a real process on the same data dir, server stopped) passes, then names the event edited
 * directly in the store.
 */
import { sql } from 'kysely';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/store.ts';
import { ADMIN, call, createMember, login, startTestPlane, type TestPlane, runServerCli } from './helpers.ts';

let t: TestPlane;
let admin: string;
let closed = false;

beforeAll(async () => {
  t = await startTestPlane();
  admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
});
afterAll(async () => {
  if (!closed) await t?.close();
});

describe('audit trail', () => {
  it('chains every event: seq, prevHash = hash of the one before, sign-ins with actor and source address', async () => {
    await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: 'wrong password' } });
    await call(t.url, 'POST', '/api/v1/projects', { token: admin, body: { name: 'audited' } });
    const res = await call(t.url, 'GET', '/api/v1/audit?limit=1000', { token: admin });
    expect(res.status).toBe(200);
    const events = res.body.events as {
      seq: number;
      hash: string;
      prevHash: string;
      action: string;
      actor: { email: string | null };
      sourceAddress: string | null;
      projectId: string | null;
    }[];
    expect(events.length).toBeGreaterThanOrEqual(4);
    events.forEach((e, i) => {
      expect(e.seq).toBe(i + 1);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      if (i > 0) expect(e.prevHash).toBe(events[i - 1].hash);
    });
    expect(events[0].prevHash).toBe('0'.repeat(64));
    const failed = events.find((e) => e.action === 'auth.login_failed');
    expect(failed).toMatchObject({ actor: { email: ADMIN.email }, sourceAddress: '127.0.0.1' });
    expect(events.some((e) => e.action === 'auth.login' && e.actor.email === ADMIN.email)).toBe(true);
    const project = events.find((e) => e.action === 'project.create');
    expect(project?.projectId).toEqual(expect.any(String));
    // No secret values: the password of the failed sign-in is nowhere.
    expect(res.text).not.toContain('wrong password');
  });

  it('filters by action (exact and prefix), actor, project and time, and pages with `after`', async () => {
    const byAction = await call(t.url, 'GET', '/api/v1/audit?action=auth.login_failed', { token: admin });
    expect(byAction.body.events.length).toBeGreaterThan(0);
    expect(byAction.body.events.every((e: { action: string }) => e.action === 'auth.login_failed')).toBe(true);
    const prefix = await call(t.url, 'GET', '/api/v1/audit?action=auth.*', { token: admin });
    expect(new Set(prefix.body.events.map((e: { action: string }) => e.action))).toEqual(new Set(['auth.login', 'auth.login_failed']));
    const byActor = await call(t.url, 'GET', `/api/v1/audit?actor=${encodeURIComponent(ADMIN.email)}`, { token: admin });
    expect(byActor.body.events.every((e: { actor: { email: string } }) => e.actor.email === ADMIN.email)).toBe(true);
    const future = await call(t.url, 'GET', `/api/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token: admin });
    expect(future.body).toEqual({ events: [], next: null });
    const badDate = await call(t.url, 'GET', '/api/v1/audit?from=yesterday', { token: admin });
    expect(badDate.status).toBe(400);

    const all = (await call(t.url, 'GET', '/api/v1/audit?limit=1000', { token: admin })).body.events as { seq: number }[];
    const pages: number[] = [];
    let after = 0;
    for (;;) {
      const page = await call(t.url, 'GET', `/api/v1/audit?limit=2&after=${after}`, { token: admin });
      pages.push(...page.body.events.map((e: { seq: number }) => e.seq));
      if (page.body.next === null) break;
      after = page.body.next;
    }
    expect(pages).toEqual(all.map((e) => e.seq));
  });

  it('scopes project roles to their projects and refuses members', async () => {
    const auditor = await createMember(t, admin, 'auditor@example.com', 'auditor');
    const member = await createMember(t, admin, 'member@example.com', 'member');
    const scoped = await call(t.url, 'GET', '/api/v1/audit?limit=1000', { token: auditor.token });
    expect(scoped.status).toBe(200);
    expect(scoped.body.events.length).toBeGreaterThan(0);
    expect(scoped.body.events.every((e: { projectId: string }) => e.projectId === t.projectId)).toBe(true);
    const other = await call(t.url, 'GET', '/api/v1/audit?projectId=someone-elses', { token: auditor.token });
    expect(other.status).toBe(403);
    const refused = await call(t.url, 'GET', '/api/v1/audit', { token: member.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('GATEHOUSE_ERR_FORBIDDEN');
    expect((await call(t.url, 'GET', '/api/v1/audit/stream', { token: member.token })).status).toBe(403);
  });

  it('streams JSON lines from a cursor and follows new events', async () => {
    const last = (await call(t.url, 'GET', '/api/v1/audit?limit=1000', { token: admin })).body.events.at(-1).seq as number;
    const controller = new AbortController();
    const res = await request(`${t.url}/api/v1/audit/stream?after=${last - 1}`, { headers: { authorization: `Bearer ${admin}` }, signal: controller.signal });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const seen: { seq: number; action: string }[] = [];
    let buffer = '';
    const reading = (async () => {
      for await (const chunk of res.body) {
        buffer += String(chunk);
        let nl: number;
        while ((nl = buffer.indexOf('\n')) !== -1) {
          seen.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
          if (seen.some((e) => e.action === 'project.create' && e.seq > last)) return;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((e) => e.seq)).toEqual([last]);
    await call(t.url, 'POST', '/api/v1/projects', { token: admin, body: { name: 'streamed' } });
    await reading;
    controller.abort();
    expect(seen.at(-1)).toMatchObject({ seq: last + 1, action: 'project.create' });
  });

  it('`audit verify` passes on the untouched chain, then names the event edited in the store (exit 1)', async () => {
    const total = (await call(t.url, 'GET', '/api/v1/audit?limit=1000', { token: admin })).body.events.length as number;
    await t.plane.close();
    closed = true;
    const good = await runServerCli(['audit', 'verify', '--data-dir', t.dataDir]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    // Shutdown appended one signed checkpoint of the chain head (issue 10 item 9).
    expect(good.stdout).toContain(`audit chain verified: ${total + 1} events`);
    expect(good.stdout).toContain('1 signed checkpoint(s) hold');

    // An attacker with database access: the trigger refuses plain updates, so they disable it.
    const store = await openStore({ kind: 'pglite', dataDir: t.dataDir });
    await expect(sql`update audit_events set action = 'x' where seq = 3`.execute(store.db)).rejects.toThrow(/append-only/);
    await sql`alter table audit_events disable trigger audit_events_no_update`.execute(store.db);
    await sql`update audit_events set source_address = '203.0.113.9' where seq = 3`.execute(store.db);
    const edited = await sql<{ id: string | number; action: string }>`select id, action from audit_events where seq = 3`.execute(store.db);
    await store.close();

    const bad = await runServerCli(['audit', 'verify', '--data-dir', t.dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`broken at event seq 3 (id ${edited.rows[0].id}, ${edited.rows[0].action})`);
    expect(bad.stderr).toContain('GATEHOUSE_ERR_AUDIT_CHAIN_BROKEN');
    await t.close();
  });
});
