import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { migrations } from './migrations/index.ts';
import { openStore, type Store } from './store.ts';

type Backend = { name: string; open(): Promise<{ store: Store; cleanup: () => Promise<void> }> };

const backends: Backend[] = [
  {
    name: 'PGlite',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'gatehouse-store-'));
      const store = await openStore({ kind: 'pglite', dataDir: dir });
      return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const server: PgServer = await startPostgres();
      await server.query('CREATE DATABASE gatehouse');
      const url = `postgres://${server.superuser}:${encodeURIComponent(server.superuserPassword)}@${server.host}:${server.port}/gatehouse`;
      const store = await openStore({ kind: 'postgres', connectionString: url });
      return { store, cleanup: () => server.stop() };
    },
  },
];

describe.each(backends)('store on $name', (backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await backend.open());
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('creates users, finds them case-insensitively, refuses a duplicate email', async () => {
    const user = await store.users.create({ email: 'Ada@Example.com', name: 'Ada', passwordHash: 'h', isAdmin: true });
    expect(user.email).toBe('ada@example.com');
    expect((await store.users.findByEmail('ADA@example.com'))?.id).toBe(user.id);
    await expect(store.users.create({ email: 'ada@example.com', name: 'x', passwordHash: 'h', isAdmin: false })).rejects.toMatchObject({
      code: 'GATEHOUSE_ERR_CONFLICT',
    });
    expect(await store.users.count()).toBe(1);
  });

  it('consumes a refresh token exactly once (a second use ends its family) and refuses an expired one', async () => {
    const user = await store.users.create({ email: 'r@example.com', name: 'R', passwordHash: 'h', isAdmin: false });
    const now = new Date();
    const sessionId = await store.refreshTokens.startSession({ userId: user.id, mfaMethod: 'totp', sourceAddress: null });
    await store.refreshTokens.create({ userId: user.id, sessionId, tokenHash: 'live', expiresAt: new Date(now.getTime() + 60_000) });
    await store.refreshTokens.create({ userId: user.id, sessionId, tokenHash: 'next', expiresAt: new Date(now.getTime() + 60_000) });
    await store.refreshTokens.create({ userId: user.id, sessionId, tokenHash: 'old', expiresAt: new Date(now.getTime() - 1) });
    expect(await store.refreshTokens.consume('live', now)).toEqual({ state: 'ok', userId: user.id, sessionId, mfaMethod: 'totp' });
    expect(await store.refreshTokens.consume('live', now)).toEqual({ state: 'reused', userId: user.id, sessionId, familyWasLive: true });
    expect(await store.refreshTokens.consume('next', now)).toEqual({ state: 'ended', userId: user.id });
    expect(await store.refreshTokens.consume('old', now)).toEqual({ state: 'invalid' });
    expect((await store.refreshTokens.principal(user.id, sessionId))?.session).toEqual({ revoked: true, mfaMethod: 'totp' });
  });

  it('keeps projects, members, gateways, resources and accounts', async () => {
    const user = await store.users.create({ email: 'm@example.com', name: 'M', passwordHash: 'h', isAdmin: false });
    const project = await store.projects.create('shop');
    await expect(store.projects.create('shop')).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_CONFLICT' });
    await store.projects.setMember(project.id, user.id, 'member');
    await store.projects.setMember(project.id, user.id, 'auditor');
    expect(await store.projects.roleOf(project.id, user.id)).toBe('auditor');
    expect((await store.projects.listForUser(user.id)).map((p) => p.role)).toEqual(['auditor']);

    const now = new Date();
    const gateway = await store.gateways.create({ name: 'gw-1', projectId: project.id, tokenHash: 'enroll', tokenExpiresAt: new Date(now.getTime() + 60_000) });
    expect(await store.gateways.consumeEnrollmentToken('enroll', now)).toBe(gateway.id);
    expect(await store.gateways.consumeEnrollmentToken('enroll', now)).toBeUndefined();
    await store.gateways.setConnected(gateway.id, true, now);
    expect((await store.gateways.findById(gateway.id))?.connected).toBe(true);
    expect((await store.gateways.list({ projectIds: [] })).length).toBe(0);
    expect((await store.gateways.list({ projectIds: [project.id] })).map((g) => g.name)).toEqual(['gw-1']);

    const ssl = { enabled: true, rejectUnauthorized: false, ca: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' };
    const resource = await store.resources.create(project.id, { gatewayId: gateway.id, name: 'orders', host: 'db', port: 5432, database: 'orders', ssl });
    expect(resource.ssl).toEqual(ssl);
    expect((await store.resources.findInProject(project.id, 'orders'))?.id).toBe(resource.id);
    expect((await store.resources.findInProject(project.id, resource.id))?.name).toBe('orders');
    await expect(
      store.resources.create(project.id, { gatewayId: gateway.id, name: 'orders', host: 'db', port: 5432, database: 'x', ssl }),
    ).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_CONFLICT' });
    const updated = await store.resources.update(resource.id, { port: 6543, ssl: { enabled: false, rejectUnauthorized: true } }, new Date());
    expect(updated).toMatchObject({ port: 6543, ssl: { enabled: false, rejectUnauthorized: true } });

    const account = await store.accounts.create({
      id: 'acc-1',
      resourceId: resource.id,
      name: 'readonly',
      description: '',
      username: 'ro',
      passwordSealed: 'sealed',
      requireMfa: false,
    });
    expect((await store.accounts.findOnResource(resource.id, 'readonly'))?.id).toBe(account.id);
    expect((await store.accounts.listByProject(project.id)).map((a) => [a.name, a.resource.name])).toEqual([['readonly', 'orders']]);
    expect(await store.resources.delete(resource.id)).toBe(true);
    expect(await store.accounts.findById(account.id)).toBeUndefined();
  });

  it('ends a session once, expires due sessions, pages events idempotently', async () => {
    const project = await store.projects.create('events');
    const now = new Date();
    const base = {
      projectId: project.id,
      userId: 'u',
      userEmail: 'u@example.com',
      resourceId: 'r',
      resourceName: 'orders',
      database: 'orders',
      accountId: 'a',
      accountName: 'ro',
      username: 'ro',
      gatewayId: 'gw',
    };
    await store.sessions.create({ ...base, id: 's-live', expiresAt: new Date(now.getTime() + 60_000) }, now);
    await store.sessions.create({ ...base, id: 's-due', expiresAt: new Date(now.getTime() - 1) }, now);
    expect((await store.sessions.expireDue(now)).map((s) => s.id)).toEqual(['s-due']);
    expect(await store.sessions.countActive(now)).toBe(1);
    expect((await store.sessions.finish('s-live', 'revoked', now))?.status).toBe('revoked');
    expect(await store.sessions.finish('s-live', 'ended', now)).toBeUndefined();
    expect((await store.sessions.idsOnGateway('gw', ['s-live', 'nope'])).has('s-live')).toBe(true);

    const events = [1, 2, 3].map((seq) => ({
      seq,
      sessionId: 's-live',
      connectionId: 'c1',
      at: now.toISOString(),
      type: 'statement',
      sql: `select ${seq}`,
      outcome: { status: 'ok', rows: seq },
    }));
    expect(await store.sessionEvents.insert('gw', events)).toBe(3);
    expect(await store.sessionEvents.insert('gw', events)).toBe(0);
    const first = await store.sessionEvents.page('s-live', 0, 2);
    expect(first.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(first.events[0]).toMatchObject({ type: 'statement', sql: 'select 1', outcome: { status: 'ok', rows: 1 } });
    expect(first.next).toBe(2);
    const second = await store.sessionEvents.page('s-live', first.next ?? 0, 2);
    expect(second).toEqual({ events: [expect.objectContaining({ seq: 3 })] });
  });

  it('writes settings once (first writer wins) and records audit events', async () => {
    expect(await store.settings.insertAllIfAbsent({ 'ca.cert': 'c1', 'ca.key': 'k1' })).toBe(true);
    expect(await store.settings.insertAllIfAbsent({ 'ca.cert': 'c2', 'ca.key': 'k2' })).toBe(false);
    expect(Object.fromEntries(await store.settings.getMany(['ca.cert', 'ca.key']))).toEqual({ 'ca.cert': 'c1', 'ca.key': 'k1' });
    await store.auditEvents.record({
      actorId: 'u',
      actorEmail: 'u@example.com',
      action: 'project.create',
      targetType: 'project',
      targetId: 'p',
      sourceAddress: '127.0.0.1',
      details: { name: 'x' },
    });
    const [event] = await store.auditEvents.list({ action: 'project.create', limit: 10 });
    expect(event).toMatchObject({
      seq: 1,
      actor: { kind: 'user', userId: 'u', email: 'u@example.com' },
      target: { kind: 'project', id: 'p' },
      sourceAddress: '127.0.0.1',
      details: { name: 'x' },
    });
    expect(event.prevHash).toBe('0'.repeat(64));
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is reopened without re-running migrations', async () => {
    const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(store.db);
    expect(rows.rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
  });
});
