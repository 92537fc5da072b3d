import { createLogger } from '../../proxy-core/src/log.ts';
import type { SessionEvent } from '../../proxy-core/src/recorder/events.ts';

const log = createLogger('gateway.event-log');

const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export type EventSender = (events: SessionEvent[]) => void;

export interface SendWindowOptions {
  /** Most events per `{ type: 'events' }` message. */
  maxBatch: number;
  /** Unacked events kept in memory; the rest stay on disk until there is room. */
  maxInMemory: number;
  /** Sent-but-unacked events allowed in flight at once. */
  maxInFlight: number;
  /** Resend from the last ack when no ack arrives for this long. */
  ackTimeoutMs: number;
}

/**
 * The gateway's unacked session events on their way to the control plane: the events in
 * memory (a bounded run of them, in seq order; the rest wait in the durable file and are read
 * back as acks make room), which were sent, and the ack. It only sends what the durable file
 * already holds (`durableSeq`), in batches that never leave a seq hole, and sends everything
 * unacked again on a new sender or when acks stop coming. No I/O here: the event log
 * (event-log.ts) owns the file and tells the window what is durable.
 */
export class SendWindow {
  /** Unacked events in memory, in seq order, from index `head`. */
  private memory: SessionEvent[];
  private head = 0;
  /** Index in `memory` of the next event to send. */
  private sendIdx = 0;
  /** Highest seq in memory; below the log's last seq while the backlog spills to disk. */
  private upTo: number;
  private maxSentSeq: number;
  private acked: number;
  private sender: EventSender | undefined;
  private lastAckProgress = Date.now();

  constructor(
    private readonly opts: SendWindowOptions,
    state: { ackedSeq: number; events: SessionEvent[] },
  ) {
    this.acked = this.maxSentSeq = state.ackedSeq;
    this.memory = state.events;
    this.upTo = state.events.length > 0 ? state.events[state.events.length - 1].seq : state.ackedSeq;
  }

  /** Every event up to this seq was stored by the control plane. */
  get ackedSeq(): number {
    return this.acked;
  }

  /** Highest seq held in memory. */
  get memoryUpTo(): number {
    return this.upTo;
  }

  get pendingCount(): number {
    return this.memory.length - this.head;
  }

  /** Keeps a new event in memory when it follows the last one there and there is room (else it is read back later). */
  offer(event: SessionEvent): void {
    if (this.upTo === event.seq - 1 && this.pendingCount < this.opts.maxInMemory) {
      this.memory.push(event);
      this.upTo = event.seq;
    }
  }

  /** Start sending to `sender` (everything unacked goes again), or stop with undefined. */
  setSender(sender: EventSender | undefined): void {
    this.sender = sender;
    this.sendIdx = this.head;
    this.lastAckProgress = Date.now();
  }

  /**
   * The control plane stored every event up to `seq` (bounded by what was sent and what is
   * durable). Returns true when the ack moved forward.
   */
  ack(seq: number, durableSeq: number): boolean {
    if (!Number.isSafeInteger(seq) || seq <= this.acked) return false;
    const acked = Math.min(seq, this.maxSentSeq, durableSeq);
    if (acked <= this.acked) return false;
    this.acked = acked;
    this.lastAckProgress = Date.now();
    while (this.head < this.memory.length && this.memory[this.head].seq <= acked) this.head += 1;
    if (this.sendIdx < this.head) this.sendIdx = this.head;
    if (this.head > 1024 && this.head * 2 > this.memory.length) {
      this.memory = this.memory.slice(this.head);
      this.sendIdx -= this.head;
      this.head = 0;
    }
    if (this.upTo < acked) this.upTo = acked;
    return true;
  }

  /** When no ack came for `ackTimeoutMs` while events are in flight, sends them all again. */
  resendIfStalled(): void {
    if (this.sender && this.sendIdx > this.head && Date.now() - this.lastAckProgress > this.opts.ackTimeoutMs) {
      log.warn({ ackedSeq: this.acked, sentSeq: this.memory[this.sendIdx - 1]?.seq }, 'no ack for a while; resending unacked session events');
      this.sendIdx = this.head;
      this.lastAckProgress = Date.now();
    }
  }

  /** Sends durable events (up to `durableSeq`): full batches now, a partial batch only when `partial` (the timer). */
  pump(durableSeq: number, partial = false): void {
    if (!this.sender) return;
    for (;;) {
      const end = this.durableEnd(durableSeq);
      const sendable = end - this.sendIdx;
      const room = this.opts.maxInFlight - (this.sendIdx - this.head);
      const count = Math.min(sendable, room, this.opts.maxBatch);
      if (count <= 0 || (count < this.opts.maxBatch && !partial && count === sendable)) return;
      const batch: SessionEvent[] = [];
      let bytes = 0;
      let i = this.sendIdx;
      for (; i < this.sendIdx + count; i += 1) {
        const event = this.memory[i];
        bytes += event.type === 'statement' ? event.sql.length + 256 : 256;
        if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
        batch.push(event);
      }
      // A seq gap (events lost before this start) must sit inside a batch: the control plane
      // only acks over batches that follow each other without a hole.
      while (i < end && this.memory[i].seq !== batch[batch.length - 1].seq + 1) batch.push(this.memory[i++]);
      this.sendIdx = i;
      const lastSent = batch[batch.length - 1].seq;
      if (lastSent > this.maxSentSeq) this.maxSentSeq = lastSent;
      this.sender(batch);
      if (!this.sender) return;
    }
  }

  /** Whether acks made room to read back events that spilled to disk (up to `lastSeq`). */
  wantsReload(lastSeq: number): boolean {
    return this.upTo < lastSeq && this.pendingCount <= this.opts.maxInMemory / 2;
  }

  /** How many events a reload may bring back. */
  reloadRoom(): number {
    return this.opts.maxInMemory - this.pendingCount;
  }

  /** An event read back from the file; false (and ignored) unless it follows what memory holds. */
  reloaded(event: SessionEvent): boolean {
    if (event.seq <= this.upTo) return false;
    this.memory.push(event);
    this.upTo = event.seq;
    return true;
  }

  /** The unacked events in memory with seq ≤ `upTo` (what a compacted file keeps). */
  unacked(upTo: number): SessionEvent[] {
    return this.memory.slice(this.head).filter((e) => e.seq > this.acked && e.seq <= upTo);
  }

  /** Index just past the last event in memory that is on disk. */
  private durableEnd(durableSeq: number): number {
    if (this.upTo <= durableSeq) return this.memory.length;
    let lo = this.sendIdx;
    let hi = this.memory.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.memory[mid].seq <= durableSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
