/**
 * Walks the audit chain in order, recomputes every hash, and checks the signed checkpoints
 * (audit/checkpoint.ts): those inside the chain (`audit.checkpoint` events) and those kept
 * outside it (the data dir's file, a log or SIEM export). A rewrite, even one that re-hashes the
 * whole chain, no longer matches a checkpoint the rewriter could not sign; a truncation leaves
 * a checkpoint past the end of the chain.
 */
import type { KeyObject } from 'node:crypto';
import { eventHash, GENESIS_HASH, type ChainedEvent } from '../store/audit-chain.ts';
import { asCheckpoint, CHECKPOINT_ACTION, checkpointSignatureValid, type AuditCheckpoint } from './checkpoint.ts';

export type ChainVerdict =
  | { state: 'ok'; count: number; lastHash: string; checkpoints: number; latestCheckpoint?: { seq: number; at: string } }
  | { state: 'broken'; count: number; event?: { id: string; seq: number; action: string }; reason: string };

export interface VerifyOptions {
  /** The checkpoint signing key's public half; without it, checkpoints are not checked. */
  publicKey?: KeyObject;
  /** Checkpoints kept outside the database (data dir file, log or SIEM export). */
  checkpoints?: AuditCheckpoint[];
  /**
   * Where the events begin when older ones were removed (an export after retention): the first
   * event's seq and prevHash. Default: seq 1 after the genesis hash.
   */
  start?: { seq: number; prevHash: string };
}

/** Events in chain order: the store's `scan()`, or an export's lines read back. */
export interface ChainSource {
  scan(): AsyncIterable<ChainedEvent & { storedHash?: string }>;
}

export async function verifyAuditChain(events: ChainSource, options: VerifyOptions = {}): Promise<ChainVerdict> {
  const { publicKey } = options;
  const external = options.checkpoints ?? [];
  if (publicKey) {
    const forged = external.find((c) => !checkpointSignatureValid(c, publicKey));
    if (forged)
      return {
        state: 'broken',
        count: 0,
        reason: `the checkpoint at seq ${forged.seq} (${forged.at}) is not signed by this server's key (forged, or another server's)`,
      };
  }
  const wanted = new Map<number, AuditCheckpoint>();
  // Checkpoints of events before `start` (removed by retention) cannot be checked here.
  for (const c of external) if (c.seq >= (options.start?.seq ?? 1)) wanted.set(c.seq, c);
  let prevHash = options.start?.prevHash ?? GENESIS_HASH;
  let expectedSeq = options.start?.seq ?? 1;
  let count = 0;
  const checked = new Set<number>();
  let latest: AuditCheckpoint | undefined;
  const note = (c: AuditCheckpoint) => {
    checked.add(c.seq);
    if (!latest || c.seq > latest.seq) latest = c;
  };
  for await (const stored of events.scan()) {
    const { hash, storedHash: fromStore, ...body } = stored;
    const storedHash = fromStore ?? hash;
    const at = { id: stored.id, seq: stored.seq, action: stored.action };
    if (stored.seq !== expectedSeq) return { state: 'broken', count, event: at, reason: `expected seq ${expectedSeq} (an event is missing or was inserted)` };
    if (stored.prevHash !== prevHash) return { state: 'broken', count, event: at, reason: 'prevHash does not match the hash of the event before' };
    if (eventHash(body) !== storedHash) return { state: 'broken', count, event: at, reason: 'its content does not match its hash (edited)' };
    if (publicKey && stored.action === CHECKPOINT_ACTION) {
      const inChain = asCheckpoint(stored.details);
      if (!inChain || !checkpointSignatureValid(inChain, publicKey))
        return { state: 'broken', count, event: at, reason: "this checkpoint is not signed by this server's key (forged or altered)" };
      if (inChain.seq !== stored.seq - 1 || inChain.hash !== stored.prevHash) {
        return {
          state: 'broken',
          count,
          event: at,
          reason: `the chain before this checkpoint was rewritten: seq ${inChain.seq} was signed with hash ${inChain.hash.slice(0, 16)}…`,
        };
      }
      note(inChain);
    }
    const outside = wanted.get(stored.seq);
    if (outside) {
      if (outside.hash !== storedHash)
        return {
          state: 'broken',
          count,
          event: at,
          reason: `the chain was rewritten: the checkpoint of ${outside.at} signed this event with hash ${outside.hash.slice(0, 16)}…`,
        };
      note(outside);
      wanted.delete(stored.seq);
    }
    prevHash = storedHash;
    expectedSeq += 1;
    count += 1;
  }
  const beyond = [...wanted.values()].sort((a, b) => b.seq - a.seq)[0];
  if (beyond) {
    return {
      state: 'broken',
      count,
      reason: `the chain was truncated: it ends at seq ${expectedSeq - 1}, but the checkpoint of ${beyond.at} signed seq ${beyond.seq}`,
    };
  }
  return { state: 'ok', count, lastHash: prevHash, checkpoints: checked.size, ...(latest && { latestCheckpoint: { seq: latest.seq, at: latest.at } }) };
}
