/**
 * The durable half of the gateway's event log: `events.jsonl`, one JSON event per line,
 * appended with write(2) and never left with a partial line by this process.
 *
 * - `append` writes a whole line or nothing: a short write (ENOSPC in the middle of a line)
 *   is cut back to the previous line end before the error is thrown, so the file never
 *   holds a torn line followed by more events (the cause of the old seq gaps).
 * - `open` checks every line once: a torn or unreadable tail (a kill mid-write, a disk that
 *   filled) is cut off, unreadable lines in the middle are dropped by a rewrite, and both are
 *   reported (log line + `RecoveryReport`), never a crash. The dropped bytes are kept in
 *   `events.torn` (capped) for the operator.
 * - A reserve file (`events.reserve`) holds space back; when the disk fills it is released
 *   so the events of statements already running can still be written.
 */
import { closeSync, createReadStream, fdatasync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { appendFile, open, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { SessionEvent } from '../../proxy-core/src/recorder/events.ts';

const log = createLogger('gateway.event-file');
const fdatasyncP = promisify(fdatasync);

export const LOG_FILE = 'events.jsonl';
export const ACK_FILE = 'events.ack';
export const RESERVE_FILE = 'events.reserve';
export const TORN_FILE = 'events.torn';
const MAX_TORN_KEPT = 1024 * 1024;
const ZERO_CHUNK = Buffer.alloc(64 * 1024);

export interface RecoveryReport {
  /** Unreadable lines dropped (torn writes, garbage). */
  droppedLines: number;
  droppedBytes: number;
  /** Dropped from the end of the file (a torn tail) rather than the middle. */
  tornTail: boolean;
  /** Seq ranges missing between readable unacked events (lost before this start). */
  gaps: Array<{ from: number; to: number }>;
}

export interface LoadedLog {
  file: EventFile;
  ackedSeq: number;
  lastSeq: number;
  /** Unacked events, oldest first, at most `maxInMemory`. */
  events: SessionEvent[];
  /** Lines in the file (acked or not). */
  lines: number;
  report: RecoveryReport;
}

/** A write that did not make an event durable; the file is left as it was before it. */
export class EventWriteError extends Error {
  constructor(
    readonly errno: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventWriteError';
  }
}

export class EventFile {
  private fd: number;
  private sizeValue: number;

  private constructor(
    readonly dir: string,
    fd: number,
  ) {
    this.fd = fd;
    this.sizeValue = fstatSync(fd).size;
  }

  get path(): string {
    return join(this.dir, LOG_FILE);
  }

  get size(): number {
    return this.sizeValue;
  }

  /** Opens the log in `dir`, repairing and reporting what a crash or a full disk left behind. */
  static async open(dir: string, maxInMemory: number): Promise<LoadedLog> {
    const ackedSeq = await readAck(join(dir, ACK_FILE));
    const path = join(dir, LOG_FILE);
    const scan = await scanLog(path, ackedSeq, maxInMemory);
    const report: RecoveryReport = { droppedLines: scan.bad.length, droppedBytes: 0, tornTail: false, gaps: scan.gaps };
    if (scan.bad.length > 0) {
      report.droppedBytes = scan.bad.reduce((n, b) => n + b.length, 0);
      report.tornTail = scan.bad.every((b) => b.offset >= scan.goodEnd);
      await keepTornBytes(
        dir,
        scan.bad.map((b) => b.bytes),
      );
      if (report.tornTail) {
        const fh = await open(path, 'r+');
        await fh.truncate(scan.goodEnd);
        await fh.datasync();
        await fh.close();
      } else {
        await rewriteWithout(path, new Set(scan.bad.map((b) => b.offset)));
      }
      log.warn(
        {
          droppedLines: report.droppedLines,
          droppedBytes: report.droppedBytes,
          tornTail: report.tornTail,
          lastSeq: scan.lastSeq,
          keptIn: join(dir, TORN_FILE),
        },
        report.tornTail
          ? 'the event log ended in a torn write (the gateway stopped or the disk filled mid-line); the partial tail was cut off'
          : 'the event log held unreadable lines; they were dropped and the log rewritten',
      );
    }
    for (const gap of scan.gaps) {
      log.error(
        { from: gap.from, to: gap.to },
        'session events in this seq range were lost before this start (an unreadable line in the log); later events are kept and sent',
      );
    }
    const fd = openSync(path, 'a', 0o600);
    return { file: new EventFile(dir, fd), ackedSeq, lastSeq: scan.lastSeq, events: scan.events, lines: scan.lines, report };
  }

  /**
   * Appends whole lines with write(2) (page cache: survives a killed process). All or
   * nothing: on a short or failed write the file is cut back and EventWriteError thrown.
   */
  append(data: string): void {
    const buf = Buffer.from(data, 'utf8');
    const before = this.sizeValue;
    let written = 0;
    try {
      while (written < buf.length) written += writeSync(this.fd, buf, written, buf.length - written);
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (written > 0) {
        try {
          ftruncateSync(this.fd, before);
        } catch (truncErr) {
          // The torn tail stays; the next start cuts it off (and reports it).
          log.error({ err: (truncErr as Error).message }, 'could not cut a partial event line back');
          this.sizeValue = fstatSync(this.fd).size;
        }
      }
      throw new EventWriteError(errno, (err as Error).message);
    }
    this.sizeValue += buf.length;
  }

  datasync(): Promise<void> {
    return fdatasyncP(this.fd);
  }

  /** Empties the log (everything in it is acked). */
  truncate(): void {
    ftruncateSync(this.fd, 0);
    this.sizeValue = 0;
  }

  /** Replaces the file with `lines` (already-written unacked events) through a rename. */
  async rewrite(lines: string): Promise<void> {
    const tmp = `${this.path}.compact`;
    await writeFile(tmp, lines, { mode: 0o600 });
    await rename(tmp, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.sizeValue = fstatSync(this.fd).size;
  }

  /** Reads events with seq > `afterSeq` and ≤ `upTo`, at most `limit`, in file order. */
  async *readAfter(afterSeq: number, upTo: number): AsyncGenerator<SessionEvent> {
    for await (const { event } of readLines(this.path)) {
      if (!event || event.seq <= afterSeq) continue;
      if (event.seq > upTo) return;
      yield event;
    }
  }

  async persistAck(seq: number): Promise<void> {
    const path = join(this.dir, ACK_FILE);
    await writeFile(`${path}.tmp`, `${seq}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  /** Bytes free to unprivileged writers on the data dir's filesystem. */
  async freeBytes(): Promise<{ free: number; total: number }> {
    const s = await statfs(this.dir);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  }

  /** Makes sure the reserve file holds `bytes`; false when the disk has no room for it. */
  async ensureReserve(bytes: number): Promise<boolean> {
    if (bytes <= 0) return true;
    const path = join(this.dir, RESERVE_FILE);
    const have = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (have >= bytes) return true;
    const fh = await open(path, 'a', 0o600);
    try {
      for (let size = have; size < bytes; size += ZERO_CHUNK.length) {
        await fh.write(ZERO_CHUNK, 0, Math.min(ZERO_CHUNK.length, bytes - size));
      }
      await fh.datasync();
      return true;
    } catch (err) {
      await rm(path, { force: true });
      log.info({ err: (err as Error).message }, 'no room for the event log reserve yet');
      return false;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Frees the reserve so pending events can be written; true when there was one. */
  async releaseReserve(): Promise<boolean> {
    const path = join(this.dir, RESERVE_FILE);
    const had = await stat(path).then(
      () => true,
      () => false,
    );
    await rm(path, { force: true });
    return had;
  }

  close(): void {
    closeSync(this.fd);
  }
}

interface BadLine {
  offset: number;
  length: number;
  bytes: Buffer;
}

interface Scan {
  events: SessionEvent[];
  lastSeq: number;
  lines: number;
  /** Byte offset just past the last readable line. */
  goodEnd: number;
  bad: BadLine[];
  gaps: Array<{ from: number; to: number }>;
}

async function scanLog(path: string, ackedSeq: number, maxInMemory: number): Promise<Scan> {
  const scan: Scan = { events: [], lastSeq: ackedSeq, lines: 0, goodEnd: 0, bad: [], gaps: [] };
  let prevUnacked: number | undefined;
  for await (const { event, offset, length, raw } of readLines(path)) {
    // Unreadable, or an unacked seq not above the previous one (out of order): dropped.
    if (!event || (event.seq > ackedSeq && event.seq <= scan.lastSeq)) {
      scan.bad.push({ offset, length, bytes: raw });
      continue;
    }
    scan.lines += 1;
    scan.goodEnd = offset + length;
    if (event.seq <= ackedSeq) continue;
    const expected = (prevUnacked ?? ackedSeq) + 1;
    if (prevUnacked !== undefined && event.seq > expected) scan.gaps.push({ from: expected, to: event.seq - 1 });
    prevUnacked = event.seq;
    scan.lastSeq = event.seq;
    if (scan.events.length < maxInMemory) scan.events.push(event);
  }
  return scan;
}

function isEvent(value: unknown): value is SessionEvent {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(e.seq) &&
    (e.seq as number) > 0 &&
    typeof e.type === 'string' &&
    typeof e.sessionId === 'string' &&
    typeof e.connectionId === 'string' &&
    typeof e.at === 'string'
  );
}

/** Lines with their byte offsets; a line without its newline (a torn tail) comes back unreadable. */
async function* readLines(path: string): AsyncGenerator<{ event: SessionEvent | undefined; offset: number; length: number; raw: Buffer }> {
  let input;
  try {
    await stat(path);
    input = createReadStream(path);
  } catch {
    return;
  }
  let offset = 0;
  let rest = Buffer.alloc(0);
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const nl = data.indexOf(0x0a, start);
        if (nl === -1) break;
        const raw = data.subarray(start, nl + 1);
        yield { event: parseLine(raw), offset, length: raw.length, raw };
        offset += raw.length;
        start = nl + 1;
      }
      rest = Buffer.from(data.subarray(start));
      data = rest;
    }
  } finally {
    input.destroy();
  }
  if (rest.length > 0) yield { event: undefined, offset, length: rest.length, raw: rest };
}

function parseLine(raw: Buffer): SessionEvent | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return isEvent(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function rewriteWithout(path: string, badOffsets: Set<number>): Promise<void> {
  const tmp = `${path}.repair`;
  await writeFile(tmp, '', { mode: 0o600 });
  let batch: Buffer[] = [];
  let size = 0;
  for await (const { offset, raw } of readLines(path)) {
    if (badOffsets.has(offset)) continue;
    batch.push(Buffer.from(raw));
    size += raw.length;
    if (size > 1024 * 1024) {
      await appendFile(tmp, Buffer.concat(batch));
      batch = [];
      size = 0;
    }
  }
  if (batch.length) await appendFile(tmp, Buffer.concat(batch));
  const fh = await open(tmp, 'r');
  await fh.datasync();
  await fh.close();
  await rename(tmp, path);
}

async function keepTornBytes(dir: string, pieces: Buffer[]): Promise<void> {
  try {
    const path = join(dir, TORN_FILE);
    const have = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    let room = MAX_TORN_KEPT - have;
    const out: Buffer[] = [];
    for (const p of pieces) {
      if (room <= 0) break;
      const piece = p.subarray(0, room);
      out.push(piece, Buffer.from('\n'));
      room -= piece.length + 1;
    }
    if (out.length) await appendFile(path, Buffer.concat(out), { mode: 0o600 });
  } catch (err) {
    log.info({ err: (err as Error).message }, 'could not keep the torn bytes of the event log');
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
