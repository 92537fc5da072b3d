/**
 * The audit trail's anchor and scope (issue 10 items 8 and 9), through a real server and the
 * real `gatehouse-server audit verify` process: deletions reach the project's auditors; signed
 * checkpoints go into the chain, the SIEM stream and a file outside the database; truncating
 * the newest rows and re-hashing the whole chain are both caught.
 */
import { cp, mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash } from '../store/audit-chain.ts';
import { CHECKPOINT_FILE, CheckpointSigner, checkpointSignatureValid, parseCheckpointLines } from '../audit/checkpoint.ts';
import { deriveKeys } from '../crypto/keys.ts';
import { loadRootKey } from '../crypto/root-key.ts';
import { readCheckpointFiles, readCheckpointKey } from '../audit/verify-inputs.ts';
import { verifyAuditChain } from '../audit/verify.ts';
import { openStore } from '../store/store.ts';
import { ADMIN, call, connectGateway, createMember, login, startTestPlane, waitFor, type TestPlane, runServerCli } from './helpers.ts';

let t: TestPlane;
let admin: string;
let closed = false;
const copies: string[] = [];

/** A copy of the stopped server's data dir (database, root key, checkpoint file) to tamper with. */
async function copyDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-tamper-'));
  copies.push(dir);
  await cp(t.dataDir, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  t = await startTestPlane({ auditCheckpointSeconds: 1 });
  admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
});
afterAll(async () => {
  if (!closed) await t?.plane.close();
  await rm(t?.dataDir ?? '/nonexistent', { recursive: true, force: true });
  for (const dir of copies) await rm(dir, { recursive: true, force: true });
});

describe("issue 10 item 8: resource and account deletions are visible to the project's auditor and admin", () => {
  it('the audit rows of a deleted resource and account carry the project', async () => {
    const gateway = await connectGateway(t, admin, 'gw-audit');
    try {
      const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
        token: admin,
        body: { name: 'doomed', gatewayId: gateway.id, host: '127.0.0.1', database: 'x' },
      });
      expect(resource.status).toBe(201);
      const account = await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
        token: admin,
        body: { name: 'ro', username: 'ro', password: 'pw-123' },
      });
      expect(account.status).toBe(201);
      expect((await call(t.url, 'DELETE', `/api/v1/accounts/${account.body.account.id}`, { token: admin })).status).toBe(200);
      expect((await call(t.url, 'DELETE', `/api/v1/resources/${resource.body.resource.id}`, { token: admin })).status).toBe(200);
    } finally {
      gateway.close();
    }
    for (const role of ['auditor', 'admin'] as const) {
      const viewer = await createMember(t, admin, `${role}-8@example.com`, role);
      const seen = await call(t.url, 'GET', '/api/v1/audit?limit=1000', { token: viewer.token });
      expect(seen.status).toBe(200);
      const actions = seen.body.events.map((e: { action: string; projectId: string }) => `${e.action}@${e.projectId}`);
      expect(actions).toEqual(expect.arrayContaining([`account.delete@${t.projectId}`, `resource.delete@${t.projectId}`]));
    }
  });
});

describe('issue 10 item 9: signed checkpoints of the audit chain', () => {
  it('emits a signed checkpoint of the head on schedule: into the chain (and so the SIEM stream) and the data dir file', async () => {
    await call(t.url, 'POST', '/api/v1/projects', { token: admin, body: { name: 'checkpointed' } });
    let events: { seq: number; action: string; hash: string; details: Record<string, unknown> }[] = [];
    await waitFor(async () => {
      events = (await call(t.url, 'GET', '/api/v1/audit?limit=1000', { token: admin })).body.events;
      return events.at(-1)?.action === 'audit.checkpoint';
    }, 5000);
    const checkpointEvent = events.at(-1)!;
    const before = events.at(-2)!;
    expect(checkpointEvent.details).toMatchObject({ v: 1, seq: before.seq, hash: before.hash });
    const publicKey = new CheckpointSigner(deriveKeys(await loadRootKey({ dataDir: t.dataDir })).auditSigningSeed).publicKey;
    const [fromChain] = parseCheckpointLines(JSON.stringify(checkpointEvent));
    expect(checkpointSignatureValid(fromChain, publicKey)).toBe(true);
    expect(checkpointSignatureValid({ ...fromChain, seq: fromChain.seq + 1 }, publicKey)).toBe(false);
    // The same checkpoint, outside the database.
    const file = parseCheckpointLines(await readFile(join(t.dataDir, CHECKPOINT_FILE), 'utf8'));
    expect(file).toContainEqual(fromChain);
    // The SIEM stream carries it like any event.
    const controller = new AbortController();
    const res = await request(`${t.url}/api/v1/audit/stream?after=${checkpointEvent.seq - 1}`, {
      headers: { authorization: `Bearer ${admin}` },
      signal: controller.signal,
    });
    let text = '';
    for await (const chunk of res.body) {
      text += String(chunk);
      if (text.includes('\n')) break;
    }
    controller.abort();
    expect(JSON.parse(text.split('\n')[0])).toMatchObject({ action: 'audit.checkpoint', details: { signature: fromChain.signature } });
    // Nothing new: no further checkpoint.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await call(t.url, 'GET', '/api/v1/audit?limit=1000&action=audit.checkpoint', { token: admin })).body.events.at(-1).seq).toBe(checkpointEvent.seq);
  });

  it('`audit verify` passes on the untouched chain and catches a truncation of the newest rows', async () => {
    await call(t.url, 'POST', '/api/v1/projects', { token: admin, body: { name: 'last-words' } });
    await t.plane.close(); // shutdown checkpoint
    closed = true;
    const good = await runServerCli(['audit', 'verify', '--data-dir', t.dataDir]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/signed checkpoint\(s\) hold, the latest at seq \d+/);

    const dir = await copyDataDir();
    const store = await openStore({ kind: 'pglite', dataDir: dir });
    const last = await store.auditEvents.lastSeq();
    await sql`alter table audit_events disable trigger audit_events_no_update`.execute(store.db);
    await sql`delete from audit_events where seq > ${last - 3}`.execute(store.db);
    await store.close();
    const truncated = await runServerCli(['audit', 'verify', '--data-dir', dir]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain(`the chain was truncated: it ends at seq ${last - 3}, but the checkpoint of`);
    expect(truncated.stderr).toContain('GATEHOUSE_ERR_AUDIT_CHAIN_BROKEN');
  }, 180_000);

  it('catches a rewrite that re-hashes the whole chain: by the checkpoints in the chain, and by the file when those are dropped too', async () => {
    const dir = await copyDataDir();
    const store = await openStore({ kind: 'pglite', dataDir: dir });
    const publicKey = await readCheckpointKey({ dataDir: dir }, undefined);
    const fileCheckpoints = await readCheckpointFiles(dir, undefined);
    expect(fileCheckpoints.length).toBeGreaterThan(0);
    /** An attacker with the database: hide an early sign-in's address and re-chain everything after it. */
    const rewrite = async (dropCheckpoints: boolean) => {
      await sql`alter table audit_events disable trigger audit_events_no_update`.execute(store.db);
      const events = [];
      for await (const e of store.auditEvents.scan()) events.push(e);
      const kept = dropCheckpoints ? events.filter((e) => e.action !== 'audit.checkpoint') : events;
      if (dropCheckpoints) await sql`delete from audit_events where action = 'audit.checkpoint'`.execute(store.db);
      let prevHash = '0'.repeat(64);
      for (const [i, e] of kept.entries()) {
        const { hash: _h, storedHash: _s, ...body } = e;
        const rewritten = { ...body, seq: i + 1, prevHash, sourceAddress: i === 1 ? '203.0.113.99' : body.sourceAddress };
        const hash = eventHash(rewritten);
        await sql`update audit_events set seq = ${-(i + 1)}, prev_hash = ${prevHash}, hash = ${hash}, source_address = ${rewritten.sourceAddress} where id = ${Number(e.id)}`.execute(
          store.db,
        );
        prevHash = hash;
      }
      await sql`update audit_events set seq = -seq`.execute(store.db);
    };
    try {
      await rewrite(false);
      // Every hash is consistent again: the chain alone cannot tell ...
      expect(await verifyAuditChain(store.auditEvents)).toMatchObject({ state: 'ok' });
      // ... but the checkpoints inside it were signed over the old hashes.
      expect(await verifyAuditChain(store.auditEvents, { publicKey })).toMatchObject({ state: 'broken', reason: expect.stringContaining('rewritten') });
      // Dropping those too leaves the copy outside the database.
      await rewrite(true);
      expect(await verifyAuditChain(store.auditEvents, { publicKey })).toMatchObject({ state: 'ok', checkpoints: 0 });
      expect(await verifyAuditChain(store.auditEvents, { publicKey, checkpoints: fileCheckpoints })).toMatchObject({
        state: 'broken',
        reason: expect.stringMatching(/rewritten|truncated/),
      });
    } finally {
      await store.close();
    }
    // The real command, with the checkpoints from a log or SIEM export instead of the data dir file.
    const exported = join(dir, 'siem-export.ndjson');
    await cp(join(dir, CHECKPOINT_FILE), exported);
    await unlink(join(dir, CHECKPOINT_FILE));
    const fromExport = await runServerCli(['audit', 'verify', '--data-dir', dir, '--checkpoints', exported]);
    expect(fromExport.code).toBe(1);
    expect(fromExport.stderr).toMatch(/audit chain broken.*(rewritten|truncated).*GATEHOUSE_ERR_AUDIT_CHAIN_BROKEN/);
  }, 180_000);
});
