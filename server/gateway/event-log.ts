import { createReadStream } from 'node:fs';
import { writeSync } from 'node:fs';
import { open, readFile, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { SessionEvent, UnsequencedSessionEvent } from '../../proxy-core/src/recorder/events.ts';

const log = createLogger('gateway.event-log');

export interface EventLogOptions {
  /** Most events per `{ type: 'events' }` message. Default 500. */
  maxBatch?: number;
  /** How often a partial batch goes out. Default 200 ms. */
  flushIntervalMs?: number;
  /** Unacked events kept in memory; the rest stay on disk until there is room. Default 20,000. */
  maxInMemory?: number;
  /** Sent-but-unacked events allowed in flight at once. Default 5,000. */
  maxInFlight?: number;
  /** Resend from the last ack when no ack arrives for this long. Default 10 s. */
  ackTimeoutMs?: number;
  /** Rewrite the file once this many acked lines sit at its front. Default 20,000. */
  compactAfter?: number;
  /** fdatasync written events (survives power loss, not only a killed process). Default true. */
  fsync?: boolean;
  /**
   * Group commit: at most one fdatasync per this many ms, covering every event written since
   * the last one. A killed process loses nothing either way (each event is written before its
   * statement finishes); on power loss, unacked events of the last interval may be lost.
   * Default 50 ms.
   */
  syncIntervalMs?: number;
}

export type EventSender = (events: SessionEvent[]) => void;

const LOG_FILE = 'events.jsonl';
const ACK_FILE = 'events.ack';
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * The gateway's durable session event log. Each event gets the next `seq` (monotonic across
 * restarts) and is appended to `events.jsonl` before it may be sent. Batches go to the
 * current sender while there is one; an ack drops everything up to its seq. After a restart
 * or a reconnect every unacked event is sent again (the control plane stores by seq, so a
 * resend is harmless). Memory stays bounded: past `maxInMemory` unacked events the rest are
 * read back from disk as acks make room.
 */
export class EventLog {
  private readonly opts: Required<EventLogOptions>;
  /** Unacked events in memory, contiguous from `ackedSeq + 1` (index `head` onward). */
  private memory: SessionEvent[] = [];
  private head = 0;
  /** Events not yet written. */
  private queued: string[] = [];
  private lastSeq: number;
  private durableSeq: number;
  private ackedSeq: number;
  private persistedAck: number;
  /** Highest seq in memory; below `lastSeq` while the backlog spills to disk. */
  private memoryUpTo: number;
  private sentSeq: number;
  private maxSentSeq: number;
  private fileLines: number;
  private sender: EventSender | undefined;
  private io: Promise<void> = Promise.resolve();
  private writeScheduled = false;
  private syncTimer: NodeJS.Timeout | undefined;
  /** While the file is being truncated or rewritten, appends wait in `queued`. */
  private compacting = false;
  private reloading = false;
  private timer: NodeJS.Timeout;
  private lastAckProgress = Date.now();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private fh: FileHandle,
    state: { ackedSeq: number; events: SessionEvent[]; lastSeq: number; fileLines: number },
    options: EventLogOptions,
  ) {
    this.opts = {
      maxBatch: options.maxBatch ?? 500,
      flushIntervalMs: options.flushIntervalMs ?? 200,
      maxInMemory: options.maxInMemory ?? 20_000,
      maxInFlight: options.maxInFlight ?? 5_000,
      ackTimeoutMs: options.ackTimeoutMs ?? 10_000,
      compactAfter: options.compactAfter ?? 20_000,
      fsync: options.fsync ?? true,
      syncIntervalMs: options.syncIntervalMs ?? 50,
    };
    this.ackedSeq = this.persistedAck = state.ackedSeq;
    this.memory = state.events;
    this.lastSeq = this.durableSeq = state.lastSeq;
    this.memoryUpTo = state.events.length > 0 ? state.events[state.events.length - 1].seq : state.ackedSeq;
    this.sentSeq = this.maxSentSeq = state.ackedSeq;
    this.fileLines = state.fileLines;
    this.timer = setInterval(() => this.tick(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Opens (or creates) the log in `dir` and loads every unacked event. */
  static async open(dir: string, options: EventLogOptions = {}): Promise<EventLog> {
    const maxInMemory = options.maxInMemory ?? 20_000;
    const ackedSeq = await readAck(join(dir, ACK_FILE));
    const path = join(dir, LOG_FILE);
    await dropPartialLastLine(path);
    const events: SessionEvent[] = [];
    let lastSeq = ackedSeq;
    let fileLines = 0;
    for await (const event of readEvents(path)) {
      fileLines += 1;
      if (event.seq <= lastSeq) continue;
      lastSeq = event.seq;
      if (events.length < maxInMemory) events.push(event);
    }
    const fh = await open(path, 'a', 0o600);
    const eventLog = new EventLog(dir, fh, { ackedSeq, events, lastSeq, fileLines }, options);
    if (lastSeq > ackedSeq) log.info({ unacked: lastSeq - ackedSeq, ackedSeq }, 'loaded unacked session events; they will be resent');
    return eventLog;
  }

  /**
   * Assigns the next seq and writes the event to the log file before returning (a plain
   * write(2) to the page cache, so the event survives the gateway being killed the moment
   * after the client saw the statement finish); fdatasync follows in the background for power
   * loss. Returns the event with its seq.
   */
  append(event: UnsequencedSessionEvent): SessionEvent {
    const sequenced = { ...event, seq: ++this.lastSeq } as SessionEvent;
    const line = `${JSON.stringify(sequenced)}\n`;
    if (this.memoryUpTo === sequenced.seq - 1 && this.pendingCount() < this.opts.maxInMemory) {
      this.memory.push(sequenced);
      this.memoryUpTo = sequenced.seq;
    }
    if (!this.writeNow(line)) {
      this.queued.push(line);
      this.scheduleWrite();
    }
    return sequenced;
  }

  /** Writes `line` synchronously when nothing is queued ahead of it; false when it must queue. */
  private writeNow(line: string): boolean {
    if (this.compacting || this.closed || this.queued.length > 0 || this.writeScheduled) return false;
    try {
      writeSync(this.fh.fd, line);
    } catch (err) {
      log.error({ err }, 'could not write a session event; queueing it');
      return false;
    }
    this.fileLines += 1;
    this.durableSeq += 1;
    this.scheduleSync();
    this.pump();
    return true;
  }

  private scheduleSync(): void {
    if (!this.opts.fsync || this.syncTimer !== undefined) return;
    this.syncTimer = setTimeout(() => {
      void this.enqueueIo(async () => {
        this.syncTimer = undefined;
        await this.fh.datasync();
      });
    }, this.opts.syncIntervalMs);
    this.syncTimer.unref();
  }

  /** Start sending to `sender` (everything unacked goes again), or stop with undefined. */
  setSender(sender: EventSender | undefined): void {
    this.sender = sender;
    this.sentSeq = this.ackedSeq;
    this.lastAckProgress = Date.now();
    if (sender) this.pump();
  }

  /** The control plane stored every event up to `seq`. */
  ack(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq <= this.ackedSeq) return;
    const acked = Math.min(seq, this.maxSentSeq, this.durableSeq);
    if (acked <= this.ackedSeq) return;
    this.ackedSeq = acked;
    if (this.sentSeq < acked) this.sentSeq = acked;
    this.lastAckProgress = Date.now();
    while (this.head < this.memory.length && this.memory[this.head].seq <= acked) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.memory.length) {
      this.memory = this.memory.slice(this.head);
      this.head = 0;
    }
    if (this.memoryUpTo < acked) this.memoryUpTo = acked;
    this.maybeReload();
    this.maybeCompact();
    this.pump();
  }

  /** Resolves once every event appended so far is on disk. */
  async flush(): Promise<void> {
    while (this.queued.length > 0 || this.writeScheduled) {
      this.scheduleWrite();
      await this.io;
    }
    await this.io;
  }

  get stats(): { lastSeq: number; durableSeq: number; ackedSeq: number; unacked: number } {
    return { lastSeq: this.lastSeq, durableSeq: this.durableSeq, ackedSeq: this.ackedSeq, unacked: this.lastSeq - this.ackedSeq };
  }

  /** Writes what is queued, persists the ack and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearInterval(this.timer);
    if (this.syncTimer !== undefined) {
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
      if (this.opts.fsync) await this.enqueueIo(() => this.fh.datasync());
    }
    this.sender = undefined;
    await this.enqueueIo(() => this.persistAck());
    await this.io;
    await this.fh.close();
  }

  private pendingCount(): number {
    return this.memory.length - this.head;
  }

  private tick(): void {
    if (this.sender && this.sentSeq > this.ackedSeq && Date.now() - this.lastAckProgress > this.opts.ackTimeoutMs) {
      log.warn({ ackedSeq: this.ackedSeq, sentSeq: this.sentSeq }, 'no ack for a while; resending unacked session events');
      this.sentSeq = this.ackedSeq;
      this.lastAckProgress = Date.now();
    }
    this.maybeReload();
    this.pump(true);
    if (this.persistedAck < this.ackedSeq) void this.enqueueIo(() => this.persistAck());
  }

  /** Sends full batches now; a partial batch only on the timer (`partial`). */
  private pump(partial = false): void {
    if (!this.sender || this.closed) return;
    for (;;) {
      const sendable = Math.min(this.durableSeq, this.memoryUpTo) - this.sentSeq;
      const room = this.ackedSeq + this.opts.maxInFlight - this.sentSeq;
      const count = Math.min(sendable, room, this.opts.maxBatch);
      if (count <= 0 || (count < this.opts.maxBatch && !partial && count === sendable)) return;
      const start = this.head + (this.sentSeq - this.ackedSeq);
      const batch: SessionEvent[] = [];
      let bytes = 0;
      for (let i = start; i < start + count; i += 1) {
        const event = this.memory[i];
        bytes += event.type === 'statement' ? event.sql.length + 256 : 256;
        if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
        batch.push(event);
      }
      this.sentSeq = batch[batch.length - 1].seq;
      if (this.sentSeq > this.maxSentSeq) this.maxSentSeq = this.sentSeq;
      this.sender(batch);
      if (!this.sender) return;
    }
  }

  private scheduleWrite(): void {
    if (this.writeScheduled || this.closed) return;
    this.writeScheduled = true;
    void this.enqueueIo(async () => {
      this.writeScheduled = false;
      if (this.queued.length === 0) return;
      const lines = this.queued;
      this.queued = [];
      await this.fh.write(lines.join(''));
      if (this.opts.fsync) await this.fh.datasync();
      this.fileLines += lines.length;
      this.durableSeq += lines.length;
      this.pump();
    });
  }

  /** When acks made room and the backlog spilled to disk, read the next events back. */
  private maybeReload(): void {
    if (this.reloading || this.memoryUpTo >= this.lastSeq || this.pendingCount() > this.opts.maxInMemory / 2) return;
    this.reloading = true;
    void this.enqueueIo(async () => {
      try {
        const limit = this.opts.maxInMemory - this.pendingCount();
        const upTo = this.durableSeq;
        for await (const event of readEvents(join(this.dir, LOG_FILE))) {
          if (event.seq <= this.memoryUpTo) continue;
          if (event.seq > upTo || event.seq !== this.memoryUpTo + 1) break;
          this.memory.push(event);
          this.memoryUpTo = event.seq;
          if (this.pendingCount() >= limit) break;
        }
      } finally {
        this.reloading = false;
      }
      this.pump();
    });
  }

  /** Empty the file when all is acked; rewrite it when many acked lines pile up in front. */
  private maybeCompact(): void {
    const allAcked = this.ackedSeq === this.lastSeq;
    const ackedLines = this.fileLines - (this.durableSeq - this.ackedSeq);
    const canRewrite = this.memoryUpTo >= this.lastSeq && ackedLines >= this.opts.compactAfter;
    if (!allAcked && !canRewrite) return;
    void this.enqueueIo(async () => {
      if (this.queued.length > 0 || this.durableSeq !== this.lastSeq) return; // writes pending: next ack
      this.compacting = true;
      try {
        await this.compact();
      } finally {
        this.compacting = false;
        if (this.queued.length > 0) this.scheduleWrite();
      }
    });
  }

  private async compact(): Promise<void> {
    await this.persistAck();
    const path = join(this.dir, LOG_FILE);
    if (this.ackedSeq === this.durableSeq) {
      await this.fh.truncate(0);
      this.fileLines = 0;
      return;
    }
    if (this.memoryUpTo < this.durableSeq) return;
    // Only what is already in the file: events appended meanwhile wait in `queued`.
    const upTo = this.durableSeq;
    const keep = this.memory.slice(this.head).filter((e) => e.seq > this.ackedSeq && e.seq <= upTo);
    const tmp = `${path}.compact`;
    await writeFile(tmp, keep.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
    await rename(tmp, path);
    await this.fh.close();
    this.fh = await open(path, 'a', 0o600);
    this.fileLines = keep.length;
  }


  /** Makes the ack durable; the log file is only shortened after this. */
  private async persistAck(): Promise<void> {
    if (this.persistedAck === this.ackedSeq) return;
    const seq = this.ackedSeq;
    const path = join(this.dir, ACK_FILE);
    await writeFile(`${path}.tmp`, `${seq}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
    this.persistedAck = seq;
  }

  private enqueueIo(task: () => Promise<void>): Promise<void> {
    const run = this.io.then(task);
    this.io = run.catch((err: unknown) => log.error({ err }, 'session event log I/O failed'));
    return this.io;
  }
}

async function readAck(path: string): Promise<number> {
  try {
    const value = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  } catch {
    return 0;
  }
}

/** A process killed mid-write can leave a partial last line; cut it so appends stay line-aligned. */
async function dropPartialLastLine(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return;
  }
  if (size === 0) return;
  const fh = await open(path, 'r+');
  try {
    const tailSize = Math.min(size, 1024 * 1024);
    const tail = Buffer.alloc(tailSize);
    await fh.read(tail, 0, tailSize, size - tailSize);
    if (tail[tailSize - 1] === 0x0a) return;
    const lastNewline = tail.lastIndexOf(0x0a);
    const keep = lastNewline === -1 ? (tailSize === size ? 0 : size - tailSize) : size - tailSize + lastNewline + 1;
    log.warn({ dropped: size - keep }, 'dropping a partially written last line of the event log');
    await fh.truncate(keep);
  } finally {
    await fh.close();
  }
}

async function* readEvents(path: string): AsyncGenerator<SessionEvent> {
  let input;
  try {
    await stat(path);
    input = createReadStream(path, { encoding: 'utf8' });
  } catch {
    return;
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.length === 0) continue;
      try {
        const event = JSON.parse(line) as SessionEvent;
        if (Number.isSafeInteger(event.seq)) yield event;
      } catch {
        log.warn('skipping an unreadable line in the event log');
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
