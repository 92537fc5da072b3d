/** The chain verifier on in-memory chains (an export's view): checkpoints catch truncation, rewrites and forgeries. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH, type ChainedEvent } from '../store/audit-chain.ts';
import { CHECKPOINT_ACTION, CheckpointSigner, parseCheckpointLines, type AuditCheckpoint } from './checkpoint.ts';
import { verifyAuditChain } from './verify.ts';

const signer = new CheckpointSigner(randomBytes(32));

function chain(actions: string[], signAfter: number[] = []): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prevHash = GENESIS_HASH;
  const push = (action: string, details: Record<string, unknown>) => {
    const body = {
      id: String(events.length + 1),
      seq: events.length + 1,
      at: new Date(1_700_000_000_000 + events.length).toISOString(),
      actor: { kind: 'system' as const, userId: null, email: null },
      action,
      target: { kind: 'x', id: null, name: null },
      projectId: null,
      sourceAddress: null,
      details,
      prevHash,
    };
    const hash = eventHash(body);
    events.push({ ...body, hash });
    prevHash = hash;
  };
  for (const [i, action] of actions.entries()) {
    push(action, { i });
    if (signAfter.includes(i + 1)) push(CHECKPOINT_ACTION, signer.sign({ seq: events.length, hash: prevHash }));
  }
  return events;
}

const source = (events: ChainedEvent[]) => ({
  scan: (): AsyncIterable<ChainedEvent> => Readable.from(events),
});

describe('issue 10 item 9: verifyAuditChain with signed checkpoints', () => {
  it('holds on an untouched chain and counts its checkpoints; an export after retention verifies from its start', async () => {
    const events = chain(['a', 'b', 'c', 'd'], [2, 4]);
    const outside = parseCheckpointLines(events.map((e) => JSON.stringify(e)).join('\n'));
    expect(outside).toHaveLength(2);
    expect(await verifyAuditChain(source(events), { publicKey: signer.publicKey, checkpoints: outside })).toMatchObject({
      state: 'ok',
      count: 6,
      checkpoints: 2,
      latestCheckpoint: { seq: 5 },
    });
    const tail = events.slice(3);
    expect(
      await verifyAuditChain(source(tail), { publicKey: signer.publicKey, checkpoints: outside, start: { seq: 4, prevHash: tail[0].prevHash } }),
    ).toMatchObject({ state: 'ok', count: 3 });
  });

  it('a truncation past a checkpoint kept outside, a re-hash, and a forged checkpoint are each named', async () => {
    const events = chain(['a', 'b', 'c', 'd', 'e'], [4]);
    const kept: AuditCheckpoint[] = [signer.sign({ seq: 6, hash: events[5].hash })];
    const truncated = await verifyAuditChain(source(events.slice(0, 4)), { publicKey: signer.publicKey, checkpoints: kept });
    expect(truncated).toMatchObject({ state: 'broken', reason: expect.stringContaining('truncated: it ends at seq 4') });

    // Re-hash everything after an edit to event 2: every hash is consistent again ...
    const rewritten: ChainedEvent[] = [];
    let prevHash = GENESIS_HASH;
    for (const e of events) {
      const body = { ...e, hash: undefined, prevHash, sourceAddress: e.seq === 2 ? '203.0.113.9' : e.sourceAddress };
      const hash = eventHash(body);
      rewritten.push({ ...body, hash });
      prevHash = hash;
    }
    expect(await verifyAuditChain(source(rewritten))).toMatchObject({ state: 'ok' });
    // ... but the checkpoint inside no longer matches, nor the one kept outside.
    expect(await verifyAuditChain(source(rewritten), { publicKey: signer.publicKey })).toMatchObject({
      state: 'broken',
      event: { seq: 5 },
      reason: expect.stringContaining('rewritten'),
    });
    expect(await verifyAuditChain(source(rewritten), { checkpoints: kept, publicKey: signer.publicKey })).toMatchObject({ state: 'broken' });

    const other = new CheckpointSigner(randomBytes(32));
    const forged = await verifyAuditChain(source(events), { publicKey: signer.publicKey, checkpoints: [other.sign({ seq: 6, hash: events[5].hash })] });
    expect(forged).toMatchObject({ state: 'broken', reason: expect.stringContaining('not signed by this server') });
  });
});
