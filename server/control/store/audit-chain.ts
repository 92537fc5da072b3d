/**
 * The audit hash chain: `hash = sha256(prevHash + canonical JSON of the event without hash)`.
 * Canonical JSON sorts object keys at every level and drops `undefined`, so the same event
 * always hashes the same, whatever order its fields were built in or stored in (jsonb).
 */
import { createHash } from 'node:crypto';

/** The action of the events that hold a signed checkpoint of the chain head (audit/checkpoint.ts). */
export const CHECKPOINT_ACTION = 'audit.checkpoint';

/** prevHash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export type ActorKind = 'user' | 'gateway' | 'system';

/** An audit event as exported and as hashed (everything but `hash`). */
export interface ChainedEventBody {
  id: string;
  seq: number;
  at: string;
  actor: { kind: ActorKind; userId: string | null; email: string | null };
  action: string;
  target: { kind: string; id: string | null; name: string | null };
  projectId: string | null;
  sourceAddress: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

export interface ChainedEvent extends ChainedEventBody {
  hash: string;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function eventHash(body: ChainedEventBody): string {
  return createHash('sha256').update(body.prevHash, 'utf8').update(canonicalJson(body), 'utf8').digest('hex');
}
