/** Walks the audit chain in order and recomputes every hash. */
import { eventHash, GENESIS_HASH } from './chain.ts';
import type { AuditEventsRepo } from '../store/audit-events.ts';

export type ChainVerdict =
  | { state: 'ok'; count: number; lastHash: string }
  | { state: 'broken'; count: number; event: { id: string; seq: number; action: string }; reason: string };

/** `start`: where the stored chain begins once retention exported and deleted its oldest rows. */
export async function verifyAuditChain(events: AuditEventsRepo, start: { seq: number; prevHash: string } = { seq: 1, prevHash: GENESIS_HASH }): Promise<ChainVerdict> {
  let prevHash = start.prevHash;
  let expectedSeq = start.seq;
  let count = 0;
  for await (const stored of events.scan()) {
    const { hash: _hash, storedHash, ...body } = stored;
    const at = { id: stored.id, seq: stored.seq, action: stored.action };
    if (stored.seq !== expectedSeq) return { state: 'broken', count, event: at, reason: `expected seq ${expectedSeq} (an event is missing or was inserted)` };
    if (stored.prevHash !== prevHash) return { state: 'broken', count, event: at, reason: 'prevHash does not match the hash of the event before' };
    if (eventHash(body) !== storedHash) return { state: 'broken', count, event: at, reason: 'its content does not match its hash (edited)' };
    prevHash = storedHash;
    expectedSeq += 1;
    count += 1;
  }
  return { state: 'ok', count, lastHash: prevHash };
}
