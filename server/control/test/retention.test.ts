/**
 * Retention against a real control plane (PGlite store): old session events go, audit rows
 * are exported to JSON lines and then deleted, and the chain still verifies from the export
 * plus the rows kept.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { eventHash, GENESIS_HASH, type ChainedEvent } from '../store/audit-chain.ts';
import { verifyAuditChain } from '../audit/verify.ts';
import { readPrunedThrough, Retention } from '../retention.ts';
import { ADMIN, call, connectGateway, login, startTestPlane, type TestGateway, type TestPlane } from './helpers.ts';

const DAY = 86_400_000;
let t: TestPlane;
let gateway: TestGateway;
let admin: { accessToken: string };
let exportDir: string;

async function newSession(duration: string): Promise<string> {
  const res = await call(t.url, 'POST', '/api/v1/sessions', {
    token: admin.accessToken,
    body: { projectId: t.projectId, resource: 'orders', account: 'readonly', duration, publicKeyPem: generateKeyPair().publicKeyPem },
  });
  expect(res.status).toBe(201);
  return res.body.session.id as string;
}

let seq = 0;
async function addEvents(sessionId: string, count: number): Promise<void> {
  const at = new Date().toISOString();
  await t.plane.store.sessionEvents.insert(
    gateway.id,
    Array.from({ length: count }, () => ({ seq: ++seq, sessionId, connectionId: 'c1', at, type: 'statement', sql: 'select 1' })),
  );
}

async function eventCount(sessionId: string): Promise<number> {
  const r = await sql<{ n: string | number }>`select count(*) as n from session_events where session_id = ${sessionId}`.execute(t.plane.store.db);
  return Number(r.rows[0].n);
}

beforeAll(async () => {
  t = await startTestPlane();
  admin = await login(t.url, ADMIN.email, ADMIN.password);
  gateway = await connectGateway(t, admin.accessToken, 'gw-retention');
  const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
    token: admin.accessToken,
    body: { name: 'orders', gatewayId: gateway.id, host: '127.0.0.1', database: 'orders' },
  });
  await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
    token: admin.accessToken,
    body: { name: 'readonly', username: 'ro', password: 'pw-pw-pw-pw' },
  });
  exportDir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-export-'));
}, 60_000);

afterAll(async () => {
  gateway?.close();
  await t?.close();
  if (exportDir) await rm(exportDir, { recursive: true, force: true });
});

describe('issue 9 item 2: retention bounds the store', () => {
  it('deletes the events of sessions over for longer than --retention-days and keeps the rest', async () => {
    const ended = await newSession('1h');
    const running = await newSession('24h');
    await addEvents(ended, 1200);
    await addEvents(running, 30);
    await call(t.url, 'POST', `/api/v1/sessions/${ended}/end`, { token: admin.accessToken });
    // 1.5 days from now, 1 day of retention: the ended session is past it, the 24 h one is not.
    const retention = new Retention(t.plane.store, {
      sessionEventDays: 1,
      auditExportDir: exportDir,
      batchSize: 500,
      now: () => new Date(Date.now() + 1.5 * DAY),
    });
    const result = await retention.runOnce();
    expect(result).toMatchObject({ sessionEventsDeleted: 1200, sessionsPruned: 1, auditExported: 0 });
    expect(await eventCount(ended)).toBe(0);
    expect(await eventCount(running)).toBe(30);
    expect((await call(t.url, 'GET', `/api/v1/sessions/${ended}/logs`, { token: admin.accessToken })).body.events).toEqual([]);
  });

  it('exports audit rows as JSON lines before deleting them; export + remaining rows verify as one chain', async () => {
    const store = t.plane.store;
    const before = await store.auditEvents.lastSeq();
    expect(before).toBeGreaterThan(5);
    const retention = new Retention(store, { auditDays: 1, auditExportDir: exportDir, batchSize: 4, now: () => new Date(Date.now() + 2 * DAY) });
    const result = await retention.runOnce();
    expect(result.auditExported).toBe(before - 1); // the newest row stays to chain onto
    expect(await store.auditEvents.lastSeq()).toBe(before);

    // Newer events continue the chain where the export ends.
    await login(t.url, ADMIN.email, ADMIN.password);
    await call(t.url, 'POST', '/api/v1/projects', { token: admin.accessToken, body: { name: 'after-retention' } });

    const files = (await readdir(exportDir)).filter((f) => f.endsWith('.jsonl')).sort();
    expect(files.length).toBe(Math.ceil((before - 1) / 4));
    expect(files[0]).toBe('audit-000000000001-000000000004.jsonl');
    const exported = (await Promise.all(files.map((f) => readFile(join(exportDir, f), 'utf8'))))
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ChainedEvent);
    const kept: ChainedEvent[] = [];
    for await (const { storedHash: _s, ...e } of store.auditEvents.scan()) kept.push(e);
    expect(kept.length).toBeGreaterThan(0);
    let prevHash = GENESIS_HASH;
    for (const [i, { hash, ...body }] of [...exported, ...kept].entries()) {
      expect(body.seq).toBe(i + 1);
      expect(body.prevHash).toBe(prevHash);
      expect(eventHash(body)).toBe(hash);
      prevHash = hash;
    }

    // The store alone verifies from where retention stopped; without that start it would not.
    const pruned = await readPrunedThrough(store);
    expect(pruned).toMatchObject({ seq: before - 1, hash: exported[exported.length - 1].hash });
    expect(await verifyAuditChain(store.auditEvents, { start: { seq: pruned!.seq + 1, prevHash: pruned!.hash } })).toMatchObject({
      state: 'ok',
      count: kept.length,
    });
    expect((await verifyAuditChain(store.auditEvents)).state).toBe('broken');
  });

  it('still refuses to delete or edit audit rows outside retention', async () => {
    const db = t.plane.store.db;
    await expect(sql`delete from audit_events`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`update audit_events set action = 'x'`.execute(db)).rejects.toThrow(/append-only/);
  });
});
