import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../proxy-core/src/recorder/events.ts';
import { SendWindow } from '../send-window.ts';

const OPTS = { maxBatch: 3, maxInMemory: 100, maxInFlight: 10, ackTimeoutMs: 10_000 };

function event(seq: number): SessionEvent {
  return { seq, type: 'disconnect', sessionId: 's', connectionId: 'c', at: new Date(0).toISOString(), reason: 'client', bytesIn: 0, bytesOut: 0 };
}

describe("issue 8 item 5: the gateway event log's send window (send-window.ts)", () => {
  it('sends only what the file holds, full batches at once and the rest on the timer', () => {
    const w = new SendWindow(OPTS, { ackedSeq: 0, events: [] });
    const sent: number[][] = [];
    w.setSender((batch) => sent.push(batch.map((e) => e.seq)));
    for (let seq = 1; seq <= 5; seq += 1) w.offer(event(seq));
    w.pump(4);
    expect(sent).toEqual([[1, 2, 3]]); // 4 is durable but not a full batch; 5 is not durable
    w.pump(4, true);
    expect(sent).toEqual([[1, 2, 3], [4]]);
  });

  it('acks no further than what was sent and is durable, and resends everything unacked to a new sender', () => {
    const w = new SendWindow(OPTS, { ackedSeq: 0, events: [] });
    const sent: number[][] = [];
    w.setSender((batch) => sent.push(batch.map((e) => e.seq)));
    for (let seq = 1; seq <= 6; seq += 1) w.offer(event(seq));
    w.pump(6);
    expect(sent).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(w.ack(99, 4)).toBe(true);
    expect(w.ackedSeq).toBe(4);
    expect(w.ack(3, 6)).toBe(false);
    const again: number[][] = [];
    w.setSender((batch) => again.push(batch.map((e) => e.seq)));
    w.pump(6, true);
    expect(again).toEqual([[5, 6]]);
  });
});
