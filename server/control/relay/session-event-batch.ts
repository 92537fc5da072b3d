import type { SessionEvent } from './types.ts';

const MAX_EVENTS_PER_BATCH = 10_000;

/**
 * Validate an `{ type: 'events' }` control message from a gateway: an array of events with
 * integer seqs in increasing order, each naming its session and connection. Returns
 * undefined for anything else (the message is then ignored and not acked).
 */
export function parseEventBatch(message: Record<string, unknown>): SessionEvent[] | undefined {
  const events = message.events;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_BATCH) return undefined;
  let previous = 0;
  for (const event of events as unknown[]) {
    if (typeof event !== 'object' || event === null) return undefined;
    const e = event as Record<string, unknown>;
    if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq <= previous) return undefined;
    if (typeof e.sessionId !== 'string' || typeof e.connectionId !== 'string') return undefined;
    if (typeof e.at !== 'string' || typeof e.type !== 'string') return undefined;
    previous = e.seq;
  }
  return events as SessionEvent[];
}
