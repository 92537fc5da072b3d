import { createLogger } from '../../proxy-core/src/log.ts';
import { DISK_FULL, IO_ERROR } from '../../proxy-core/src/protocol/sqlstate.ts';
import type { SessionEvent, UnsequencedSessionEvent } from '../../proxy-core/src/recorder/events.ts';
import { EventFile, EventWriteError, type RecoveryReport } from './event-file.ts';
import { SendWindow, type EventSender } from './send-window.ts';

export type { EventSender } from './send-window.ts';

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
  /**
   * Space held back in `events.reserve`. When a write fails for lack of space the reserve is
   * released so the events of statements already running are still written. Default 16 MiB.
   */
  reserveBytes?: number;
  /** Below this much free space recording stops (statements are refused) before the disk is full. Default 64 MiB. */
  minFreeBytes?: number;
  /** Below this much free space the gateway warns (log line, `lowSpace` flag). Default 512 MiB. */
  warnFreeBytes?: number;
  /** How often free space is checked and, while recording is unavailable, recovery tried. Default 1 s. */
  diskCheckIntervalMs?: number;
}

export type RecordingCause = 'disk-full' | 'low-space' | 'io-error';

/** Whether the gateway can record: while `unavailable`, no statement may run. */
export type RecordingState = { state: 'available' } | { state: 'unavailable'; cause: RecordingCause; errno?: string; since: string };

/** What a PG client is told when recording is unavailable. */
export interface RecordingRefusal {
  sqlstate: string;
  message: string;
  hint: string;
}

export interface EventLogHealth {
  recording: RecordingState;
  /** Free bytes on the data dir's filesystem at the last check. */
  freeBytes: number;
  totalBytes: number;
  /** Free space under `warnFreeBytes`. */
  lowSpace: boolean;
  minFreeBytes: number;
  warnFreeBytes: number;
  /** Events waiting to be written (only while writes fail). */
  pendingWrites: number;
}

const MIB = 1024 * 1024;

interface Pending {
  seq: number;
  line: string;
}

/**
 * The gateway's session event log: the durable file (`EventFile`, event-file.ts) and the send
 * window (`SendWindow`, send-window.ts) over it. Each event gets the next `seq` (monotonic
 * across restarts) and is written to `events.jsonl` before it may be sent. Batches go to the
 * current sender while there is one; an ack drops everything up to its seq. After a restart or
 * a reconnect every unacked event is sent again (the control plane stores by seq, so a resend
 * is harmless). Memory stays bounded: past `maxInMemory` unacked events the rest are read back
 * from disk as acks make room.
 *
 * Recording fails closed: when an event cannot be written (ENOSPC, EIO, …) or free space
 * drops under `minFreeBytes`, `refusal()` returns what to tell clients and the gateway runs
 * no statement until writes succeed again; events that failed keep their seq and order and
 * are written first (no seq gap). Recovery is automatic once space returns.
 */
export class EventLog {
  private readonly opts: Required<EventLogOptions>;
  private readonly window: SendWindow;
  /** Events assigned a seq but not yet written (a write failed or the file is being compacted). */
  private queued: Pending[] = [];
  private lastSeq: number;
  private durableSeq: number;
  private persistedAck: number;
  private fileLines: number;
  private io: Promise<void> = Promise.resolve();
  private syncTimer: NodeJS.Timeout | undefined;
  private compacting = false;
  private reloading = false;
  private readonly timer: NodeJS.Timeout;
  private readonly diskTimer: NodeJS.Timeout;
  private checkingDisk: Promise<void> | undefined;
  private closed = false;
  private recordingState: RecordingState = { state: 'available' };
  private reserveHeld = false;
  private disk = { freeBytes: Number.NaN, totalBytes: Number.NaN, lowSpace: false };

  private constructor(
    private readonly file: EventFile,
    state: { ackedSeq: number; events: SessionEvent[]; lastSeq: number; lines: number },
    options: EventLogOptions,
    readonly recovery: RecoveryReport,
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
      reserveBytes: options.reserveBytes ?? 16 * MIB,
      minFreeBytes: options.minFreeBytes ?? 64 * MIB,
      warnFreeBytes: options.warnFreeBytes ?? 512 * MIB,
      diskCheckIntervalMs: options.diskCheckIntervalMs ?? 1_000,
    };
    this.window = new SendWindow(this.opts, state);
    this.persistedAck = state.ackedSeq;
    this.lastSeq = this.durableSeq = state.lastSeq;
    this.fileLines = state.lines;
    this.timer = setInterval(() => this.tick(), this.opts.flushIntervalMs);
    this.timer.unref();
    this.diskTimer = setInterval(() => void this.checkDisk(), this.opts.diskCheckIntervalMs);
    this.diskTimer.unref();
  }

  /** Opens (or creates) the log in `dir`, repairs a torn tail, loads every unacked event and checks the disk. */
  static async open(dir: string, options: EventLogOptions = {}): Promise<EventLog> {
    const loaded = await EventFile.open(dir, options.maxInMemory ?? 20_000);
    const eventLog = new EventLog(loaded.file, loaded, options, loaded.report);
    if (loaded.lastSeq > loaded.ackedSeq)
      log.info({ unacked: loaded.lastSeq - loaded.ackedSeq, ackedSeq: loaded.ackedSeq }, 'loaded unacked session events; they will be resent');
    await eventLog.checkDisk();
    return eventLog;
  }

  /**
   * Assigns the next seq and writes the event to the log file before returning (a plain
   * write(2) to the page cache, so the event survives the gateway being killed the moment
   * after the client saw the statement finish); fdatasync follows in the background for power
   * loss. If the write fails the event stays queued (same seq, same order) and recording
   * becomes unavailable until it is written. Returns the event with its seq.
   */
  append(event: UnsequencedSessionEvent): SessionEvent {
    const sequenced = { ...event, seq: ++this.lastSeq };
    this.window.offer(sequenced);
    this.queued.push({ seq: sequenced.seq, line: `${JSON.stringify(sequenced)}\n` });
    this.drain();
    return sequenced;
  }

  /** Undefined while recording works; otherwise what to tell a client whose statement is refused. */
  refusal(): RecordingRefusal | undefined {
    const r = this.recordingState;
    if (r.state === 'available') return undefined;
    if (r.cause === 'io-error') {
      return {
        sqlstate: IO_ERROR,
        message: `recording is unavailable: the gateway cannot write its session event log (${r.errno ?? 'I/O error'}), so the statement was not run`,
        hint: "Check the disk that holds the gateway's data dir (see the gateway's log); it accepts statements again by itself once writes succeed.",
      };
    }
    return {
      sqlstate: DISK_FULL,
      message: "recording is unavailable: the gateway's data dir is out of disk space, so the statement was not run",
      hint: "Free space on the disk that holds the gateway's data dir; it accepts statements again by itself, no restart needed.",
    };
  }

  get health(): EventLogHealth {
    return {
      recording: this.recordingState,
      freeBytes: this.disk.freeBytes,
      totalBytes: this.disk.totalBytes,
      lowSpace: this.disk.lowSpace,
      minFreeBytes: this.opts.minFreeBytes,
      warnFreeBytes: this.opts.warnFreeBytes,
      pendingWrites: this.queued.length,
    };
  }

  /** Start sending to `sender` (everything unacked goes again), or stop with undefined. */
  setSender(sender: EventSender | undefined): void {
    this.window.setSender(sender);
    if (sender) this.pump();
  }

  /** The control plane stored every event up to `seq`. */
  ack(seq: number): void {
    if (!this.window.ack(seq, this.durableSeq)) return;
    this.maybeReload();
    this.maybeCompact();
    this.pump();
  }

  /** Writes what is queued (when the disk lets it) and waits for pending file work. */
  async flush(): Promise<void> {
    await this.io;
    this.drain();
    await this.io;
  }

  get stats(): { lastSeq: number; durableSeq: number; ackedSeq: number; unacked: number } {
    const ackedSeq = this.window.ackedSeq;
    return { lastSeq: this.lastSeq, durableSeq: this.durableSeq, ackedSeq, unacked: this.lastSeq - ackedSeq };
  }

  /** Writes what is queued, persists the ack and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    await this.checkingDisk;
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.diskTimer);
    if (this.queued.length > 0) {
      log.error(
        { count: this.queued.length, firstSeq: this.queued[0].seq },
        'session events could not be written before closing (the disk is full or failing); they are lost',
      );
    }
    if (this.syncTimer !== undefined) {
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
      if (this.opts.fsync) await this.enqueueIo(() => this.file.datasync());
    }
    this.window.setSender(undefined);
    await this.enqueueIo(() => this.persistAck());
    await this.io;
    this.file.close();
  }

  /** Writes queued events in order, all in one write; on failure they stay queued. */
  private drain(): void {
    if (this.compacting || this.closed || this.queued.length === 0) return;
    const pending = this.queued;
    try {
      this.file.append(pending.length === 1 ? pending[0].line : pending.map((p) => p.line).join(''));
    } catch (err) {
      if (!(err instanceof EventWriteError)) throw err;
      this.onWriteFailure(err);
      return;
    }
    this.queued = [];
    this.fileLines += pending.length;
    this.durableSeq = pending[pending.length - 1].seq;
    this.scheduleSync();
    this.pump();
  }

  private onWriteFailure(err: EventWriteError): void {
    const cause: RecordingCause = err.errno === 'ENOSPC' || err.errno === 'EDQUOT' ? 'disk-full' : 'io-error';
    this.setUnavailable(cause, err.errno);
    if (!this.reserveHeld) return;
    // Spend the reserve on the events of statements that are already running.
    this.reserveHeld = false;
    void this.enqueueIo(async () => {
      await this.file.releaseReserve();
      log.warn({ pending: this.queued.length }, 'released the event log reserve to write the events of running statements');
      this.drain();
    });
  }

  private setUnavailable(cause: RecordingCause, errno?: string): void {
    const r = this.recordingState;
    if (r.state === 'unavailable' && (r.cause === cause || cause === 'low-space')) return;
    this.recordingState = { state: 'unavailable', cause, errno, since: new Date().toISOString() };
    log.error(
      { cause, errno, freeBytes: this.disk.freeBytes, minFreeBytes: this.opts.minFreeBytes, dir: this.file.dir },
      cause === 'io-error'
        ? 'recording unavailable: the session event log cannot be written; statements and new connections are refused until it can'
        : "recording unavailable: the gateway's data dir is out of space; statements and new connections are refused until space returns",
    );
  }

  /** Checks free space (warning and fail-closed thresholds) and, while unavailable, tries to recover. */
  private checkDisk(): Promise<void> {
    this.checkingDisk ??= this.doCheckDisk().finally(() => (this.checkingDisk = undefined));
    return this.checkingDisk;
  }

  private async doCheckDisk(): Promise<void> {
    if (this.closed) return;
    let free: number;
    try {
      const s = await this.file.freeBytes();
      free = s.free;
      this.disk.totalBytes = s.total;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not read free space on the data dir');
      return;
    }
    this.disk.freeBytes = free;
    const low = free < this.opts.warnFreeBytes;
    if (low !== this.disk.lowSpace) {
      this.disk.lowSpace = low;
      if (low)
        log.warn(
          { freeBytes: free, warnFreeBytes: this.opts.warnFreeBytes, minFreeBytes: this.opts.minFreeBytes, dir: this.file.dir },
          `the gateway's data dir is low on space: ${mib(free)} free; recording stops (statements refused) below ${mib(this.opts.minFreeBytes)}`,
        );
      else log.info({ freeBytes: free }, "the gateway's data dir has enough free space again");
    }
    if (this.recordingState.state === 'available') {
      if (free < this.opts.minFreeBytes) this.setUnavailable('low-space');
      else if (!this.reserveHeld && this.queued.length === 0) this.reserveHeld = await this.file.ensureReserve(this.opts.reserveBytes).catch(() => false);
      return;
    }
    await this.tryRecover(free);
  }

  private async tryRecover(free: number): Promise<void> {
    this.drain();
    if (this.queued.length > 0) return;
    if (!this.reserveHeld) {
      if (free < this.opts.minFreeBytes + this.opts.reserveBytes) return;
      if (!(await this.file.ensureReserve(this.opts.reserveBytes).catch(() => false))) return;
      this.reserveHeld = true;
      free -= this.opts.reserveBytes;
    }
    if (free < this.opts.minFreeBytes) return;
    if (this.opts.fsync) {
      try {
        await this.file.datasync();
      } catch {
        return;
      }
    }
    const was = this.recordingState;
    this.recordingState = { state: 'available' };
    log.info({ freeBytes: free, was }, 'recording is available again; statements and new connections are accepted');
  }

  private scheduleSync(): void {
    if (!this.opts.fsync || this.syncTimer !== undefined) return;
    this.syncTimer = setTimeout(() => {
      void this.enqueueIo(async () => {
        this.syncTimer = undefined;
        try {
          await this.file.datasync();
        } catch (err) {
          this.setUnavailable('io-error', (err as NodeJS.ErrnoException).code);
          throw err;
        }
      });
    }, this.opts.syncIntervalMs);
    this.syncTimer.unref();
  }

  private tick(): void {
    this.window.resendIfStalled();
    if (this.queued.length > 0) this.drain();
    this.maybeReload();
    this.pump(true);
    if (this.persistedAck < this.window.ackedSeq) void this.enqueueIo(() => this.persistAck());
  }

  /** Sends what the file holds: full batches now, a partial batch only on the timer (`partial`). */
  private pump(partial = false): void {
    if (!this.closed) this.window.pump(this.durableSeq, partial);
  }

  /** When acks made room and the backlog spilled to disk, read the next events back. */
  private maybeReload(): void {
    if (this.reloading || !this.window.wantsReload(this.lastSeq)) return;
    this.reloading = true;
    void this.enqueueIo(async () => {
      try {
        const limit = this.window.reloadRoom();
        for await (const event of this.file.readAfter(this.window.memoryUpTo, this.durableSeq)) {
          if (!this.window.reloaded(event)) continue;
          if (this.window.pendingCount >= limit) break;
        }
      } finally {
        this.reloading = false;
      }
      this.pump();
    });
  }

  /** Empty the file when all is acked; rewrite it when many acked lines pile up in front. */
  private maybeCompact(): void {
    const allAcked = this.window.ackedSeq === this.lastSeq;
    const ackedLines = this.fileLines - (this.durableSeq - this.window.ackedSeq);
    const canRewrite = this.window.memoryUpTo >= this.lastSeq && ackedLines >= this.opts.compactAfter;
    if (!allAcked && !canRewrite) return;
    void this.enqueueIo(async () => {
      if (this.queued.length > 0 || this.durableSeq !== this.lastSeq || this.closed) return; // writes pending: next ack
      this.compacting = true;
      try {
        await this.compact();
      } finally {
        this.compacting = false;
        this.drain();
      }
    });
  }

  private async compact(): Promise<void> {
    await this.persistAck();
    if (this.window.ackedSeq === this.durableSeq) {
      this.file.truncate();
      this.fileLines = 0;
      return;
    }
    if (this.window.memoryUpTo < this.durableSeq) return;
    // Only what is already in the file: events appended meanwhile wait in `queued`.
    const keep = this.window.unacked(this.durableSeq);
    await this.file.rewrite(keep.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.fileLines = keep.length;
  }

  /** Makes the ack durable; the log file is only shortened after this. */
  private async persistAck(): Promise<void> {
    if (this.persistedAck === this.window.ackedSeq) return;
    const seq = this.window.ackedSeq;
    await this.file.persistAck(seq);
    this.persistedAck = seq;
  }

  private enqueueIo(task: () => Promise<void>): Promise<void> {
    const run = this.io.then(task);
    this.io = run.catch((err: unknown) => log.error({ err }, 'session event log I/O failed'));
    return this.io;
  }
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}
