/**
 * Keyset paging of the lists that grow: `GET /sessions`, `GET /users` and
 * `GET /projects/:id/members` (cursor + limit + filters), against a real control plane.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../auth/passwords.ts';
import { ADMIN, call, createMember, login, startTestPlane, type TestPlane } from './helpers.ts';

let t: TestPlane;
let admin: string;
let alice: { id: string; token: string };
let auditor: { id: string; token: string };
let orders: { resourceId: string; accountId: string };
let billing: { resourceId: string; accountId: string };
const base = new Date(Date.now() - 3_600_000);

interface SessionDto {
  id: string;
  kind: string;
  userEmail: string;
  createdAt: string;
  status: string;
  resource: { name: string };
  account: { name: string };
}
interface SessionPage {
  sessions: SessionDto[];
  nextCursor: string | null;
}

async function addResource(gatewayId: string, name: string): Promise<{ resourceId: string; accountId: string }> {
  const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
    token: admin,
    body: { name, gatewayId, host: '127.0.0.1', database: name },
  });
  const account = await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
    token: admin,
    body: { name: `${name}-ro`, username: 'ro', password: 'pw-pw-pw-pw' },
  });
  return { resourceId: resource.body.resource.id, accountId: account.body.account.id };
}

/** Stores a session row as SessionService.create would, at `createdAt`. */
async function insertSession(
  user: { id: string; email: string },
  target: { resourceId: string; accountId: string },
  name: string,
  createdAt: Date,
  expiresInMs = 3_600_000 * 5,
  kind: 'proxy' | 'web' = 'proxy',
) {
  return t.plane.store.sessions.create(
    {
      id: randomUUID(),
      projectId: t.projectId,
      userId: user.id,
      userEmail: user.email,
      resourceId: target.resourceId,
      resourceName: name,
      database: name,
      accountId: target.accountId,
      accountName: `${name}-ro`,
      username: 'ro',
      gatewayId: gatewayIdOf,
      expiresAt: new Date(createdAt.getTime() + expiresInMs),
      kind,
    },
    createdAt,
  );
}
let gatewayIdOf = '';

async function pageAll(token: string, query: string, limit: number, between?: (page: number) => Promise<void>): Promise<SessionDto[]> {
  const rows: SessionDto[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const q: string = `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await call<SessionPage>(t.url, 'GET', `/api/v1/sessions?${q}`, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.sessions.length).toBeLessThanOrEqual(limit);
    rows.push(...res.body.sessions);
    cursor = res.body.nextCursor;
    if (cursor === null) return rows;
    await between?.(page);
  }
  throw new Error('paging did not end');
}

beforeAll(async () => {
  t = await startTestPlane();
  admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
  alice = await createMember(t, admin, 'alice@example.com', 'member');
  auditor = await createMember(t, admin, 'audrey@example.com', 'auditor');
  const gateway = await call(t.url, 'POST', '/api/v1/gateways', { token: admin, body: { name: 'gw-paging', projectId: t.projectId } });
  gatewayIdOf = gateway.body.gateway.id;
  orders = await addResource(gatewayIdOf, 'orders');
  billing = await addResource(gatewayIdOf, 'billing');
  const adminUser = await t.plane.store.users.findByEmail(ADMIN.email);
  // 240 sessions; every 4 share one created_at, so the id must break ties for the cursor.
  for (let i = 0; i < 240; i += 1) {
    const who = i % 3 === 0 ? { id: alice.id, email: 'alice@example.com' } : { id: adminUser!.id, email: ADMIN.email };
    const [target, name] = i % 2 === 0 ? [orders, 'orders'] : [billing, 'billing'];
    // Every 10th one is past its expiry while still stored as active: it lists as expired.
    const expired = i % 10 === 5;
    await insertSession(who, target, name, new Date(base.getTime() + Math.floor(i / 4) * 1000), expired ? 1 : undefined, i % 8 === 0 ? 'web' : 'proxy');
  }
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('issue 11: GET /sessions pages from the server (cursor, limit, filters)', () => {
  it('walks every session once, newest first, in stable order', async () => {
    const rows = await pageAll(admin, `projectId=${t.projectId}`, 37);
    expect(rows).toHaveLength(240);
    expect(new Set(rows.map((r) => r.id)).size).toBe(240);
    for (let i = 1; i < rows.length; i += 1) expect(Date.parse(rows[i - 1].createdAt)).toBeGreaterThanOrEqual(Date.parse(rows[i].createdAt));
    // Same order as one big page.
    const one = await call<SessionPage>(t.url, 'GET', `/api/v1/sessions?projectId=${t.projectId}&limit=500`, { token: admin });
    expect(one.body.nextCursor).toBeNull();
    expect(one.body.sessions.map((s) => s.id)).toEqual(rows.map((r) => r.id));
  });

  it('neither repeats nor skips a row while new sessions are created between pages', async () => {
    const before = await pageAll(admin, `projectId=${t.projectId}`, 500);
    const adminUser = await t.plane.store.users.findByEmail(ADMIN.email);
    const inserted: string[] = [];
    const rows = await pageAll(admin, `projectId=${t.projectId}`, 25, async (page) => {
      // Newer sessions (the usual case) and one in the same second as rows already read.
      const s = await insertSession({ id: adminUser!.id, email: ADMIN.email }, orders, 'orders', new Date(Date.now() + page * 10));
      inserted.push(s.id);
    });
    expect(inserted.length).toBeGreaterThan(5);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows.map((r) => r.id)).toEqual(before.map((r) => r.id));
  });

  it('filters by user, resource, account and status, and pages the filtered list', async () => {
    const byUser = await pageAll(admin, `projectId=${t.projectId}&user=ALICE`, 30);
    expect(byUser).toHaveLength(80);
    expect(byUser.every((r) => r.userEmail === 'alice@example.com')).toBe(true);
    const byResource = await pageAll(admin, `resource=bill`, 50);
    expect(byResource.length).toBeGreaterThanOrEqual(120);
    expect(byResource.every((r) => r.resource.name === 'billing')).toBe(true);
    const byAccount = await pageAll(admin, `account=${billing.accountId}&user=alice`, 50);
    expect(byAccount).toHaveLength(40);
    expect(byAccount.every((r) => r.account.name === 'billing-ro' && r.userEmail === 'alice@example.com')).toBe(true);
    const expired = await pageAll(admin, `projectId=${t.projectId}&status=expired`, 7);
    expect(expired).toHaveLength(24);
    expect(expired.every((r) => r.status === 'expired')).toBe(true);
    const active = await pageAll(admin, `projectId=${t.projectId}&status=active&resource=orders`, 50);
    expect(active.every((r) => r.status === 'active' && r.resource.name === 'orders')).toBe(true);
    const web = await pageAll(admin, `projectId=${t.projectId}&kind=web`, 7);
    expect(web).toHaveLength(30);
    expect(web.every((r) => r.kind === 'web')).toBe(true);
    const proxy = await pageAll(admin, `projectId=${t.projectId}&kind=proxy`, 100);
    expect(proxy.every((r) => r.kind === 'proxy')).toBe(true);
    expect(proxy.length + web.length).toBe((await pageAll(admin, `projectId=${t.projectId}`, 500)).length);
  });

  it('a member pages only their own sessions; an auditor the whole project', async () => {
    const own = await pageAll(alice.token, `projectId=${t.projectId}`, 33);
    expect(own).toHaveLength(80);
    expect(own.every((r) => r.userEmail === 'alice@example.com')).toBe(true);
    const audited = await pageAll(auditor.token, `projectId=${t.projectId}`, 100);
    expect(audited.length).toBeGreaterThanOrEqual(240);
  });

  it('a cursor it did not hand out is a 400 with a code, not an empty page', async () => {
    for (const cursor of ['nonsense', Buffer.from('{"t":"yesterday","i":"x"}').toString('base64url')]) {
      const res = await call(t.url, 'GET', `/api/v1/sessions?cursor=${cursor}`, { token: admin });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('GATEHOUSE_ERR_INVALID_INPUT');
    }
  });
});

describe('issue 11: GET /users and GET /projects/:id/members page from the server', () => {
  beforeAll(async () => {
    // Stored directly with one password hash (hashing 23 passwords is not what this tests).
    const passwordHash = await hashPassword('a long password');
    for (let i = 0; i < 23; i += 1) {
      const email = `user${String(i).padStart(2, '0')}@paging.example`;
      const created = await t.plane.store.users.create({ email, name: i % 2 ? 'Odd One' : 'Even One', passwordHash, isAdmin: false });
      await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/members`, {
        token: admin,
        body: { userId: created.id, role: i % 5 === 0 ? 'auditor' : 'member' },
      });
      if (i % 4 === 0) await call(t.url, 'PATCH', `/api/v1/users/${created.id}`, { token: admin, body: { disabled: true } });
    }
  }, 120_000);

  async function walk<T extends { email: string }>(path: string, key: 'users' | 'members', limit: number): Promise<T[]> {
    const rows: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await call(t.url, 'GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: admin });
      expect(res.status, res.text).toBe(200);
      rows.push(...(res.body[key] as T[]));
      cursor = res.body.nextCursor as string | null;
    } while (cursor !== null);
    return rows;
  }

  it('users: every user once, by email; search, role and disabled filters', async () => {
    const all = await walk<{ email: string }>('/api/v1/users', 'users', 6);
    expect(all.map((u) => u.email)).toEqual([...all.map((u) => u.email)].sort());
    expect(new Set(all.map((u) => u.email)).size).toBe(all.length);
    expect(all.length).toBe(26);
    expect(await walk('/api/v1/users?q=paging.EXAMPLE', 'users', 5)).toHaveLength(23);
    expect(await walk('/api/v1/users?q=odd', 'users', 5)).toHaveLength(11);
    expect((await walk('/api/v1/users?role=admin', 'users', 5)).map((u) => u.email)).toEqual([ADMIN.email]);
    const disabled = await walk<{ email: string; disabled: boolean }>('/api/v1/users?disabled=true', 'users', 2);
    expect(disabled).toHaveLength(6);
    expect(disabled.every((u) => u.disabled)).toBe(true);
    // Callers that never heard of paging still get everything in one answer.
    const old = await call(t.url, 'GET', '/api/v1/users', { token: admin });
    expect(old.body.users).toHaveLength(26);
    expect(old.body.nextCursor).toBeNull();
  });

  it('members: paged with role, search and disabled filters, with account state', async () => {
    const all = await walk<{ email: string; role: string; disabled: boolean; mfa: { totp: boolean } }>(`/api/v1/projects/${t.projectId}/members`, 'members', 4);
    expect(all).toHaveLength(26);
    expect(all[0]).toMatchObject({ email: ADMIN.email, role: 'admin', disabled: false, mfa: { totp: false } });
    const auditors = await walk<{ email: string; role: string }>(`/api/v1/projects/${t.projectId}/members?role=auditor`, 'members', 2);
    expect(auditors.map((m) => m.email)).toEqual([
      'audrey@example.com',
      'user00@paging.example',
      'user05@paging.example',
      'user10@paging.example',
      'user15@paging.example',
      'user20@paging.example',
    ]);
    expect(await walk(`/api/v1/projects/${t.projectId}/members?q=user1&disabled=false`, 'members', 3)).toHaveLength(8);
    const bad = await call(t.url, 'GET', `/api/v1/projects/${t.projectId}/members?disabled=yes`, { token: admin });
    expect(bad.status).toBe(400);
  });

  it('a member may not list users or members (refused by the API, not only hidden)', async () => {
    expect((await call(t.url, 'GET', '/api/v1/users?limit=5', { token: alice.token })).status).toBe(403);
    expect((await call(t.url, 'GET', `/api/v1/projects/${t.projectId}/members?limit=5`, { token: alice.token })).status).toBe(403);
  });
});
