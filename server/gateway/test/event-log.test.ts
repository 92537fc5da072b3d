import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionEvent, UnsequencedSessionEvent } from '../../../proxy-core/src/recorder/events.ts';
import { EventLog } from '../event-log.ts';

const dirs: string[] = [];
const logs: EventLog[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-eventlog-'));
  dirs.push(dir);
  return dir;
}

async function openLog(dir: string, opts: Parameters<typeof EventLog.open>[1] = {}): Promise<EventLog> {
  const eventLog = await EventLog.open(dir, { flushIntervalMs: 20, ...opts });
  logs.push(eventLog);
  return eventLog;
}

function statement(n: number): UnsequencedSessionEvent {
  return {
    type: 'statement',
    sessionId: 's1',
    connectionId: 'c1',
    at: new Date().toISOString(),
    protocol: 'simple',
    sql: `select ${n}`,
    durationMs: 1,
    outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 },
  };
}

/** A store that keeps events by seq, as the control plane does (idempotent insert). */
function store() {
  const bySeq = new Map<number, SessionEvent>();
  const batches: SessionEvent[][] = [];
  return {
    bySeq,
    batches,
    put(events: SessionEvent[]) {
      batches.push(events);
      for (const e of events) bySeq.set(e.seq, e);
    },
  };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('EventLog', () => {
  it('has an event in the file by the time append returns (a kill right after loses nothing)', async () => {
    const dir = await tempDir();
    const eventLog = await openLog(dir);
    for (let i = 1; i <= 3; i++) eventLog.append(statement(i));
    // No await in between: the lines must already be in the file (page cache), not in a queue.
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as SessionEvent).seq)).toEqual([1, 2, 3]);
  });

  it('numbers events, sends them in batches once durable, and drops them when acked', async () => {
    const dir = await tempDir();
    const eventLog = await openLog(dir, { maxBatch: 100 });
    const db = store();
    eventLog.setSender((events) => {
      db.put(events);
      eventLog.ack(events[events.length - 1].seq);
    });
    for (let i = 1; i <= 1234; i += 1) eventLog.append(statement(i));
    await until(() => db.bySeq.size === 1234);
    expect([...db.bySeq.keys()]).toEqual(Array.from({ length: 1234 }, (_, i) => i + 1));
    expect(Math.max(...db.batches.map((b) => b.length))).toBeLessThanOrEqual(100);
    await until(() => eventLog.stats.unacked === 0);
    await eventLog.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect((await readFile(join(dir, 'events.jsonl'), 'utf8')).length).toBe(0); // compacted
  });

  it('keeps unacked events across a restart and continues the seq after the acked ones', async () => {
    const dir = await tempDir();
    const first = await openLog(dir);
    const db = store();
    let acking = true;
    first.setSender((events) => {
      db.put(events);
      if (acking) first.ack(events[events.length - 1].seq);
    });
    for (let i = 1; i <= 10; i += 1) first.append(statement(i));
    await until(() => first.stats.ackedSeq === 10);
    acking = false;
    for (let i = 11; i <= 20; i += 1) first.append(statement(i));
    await until(() => db.bySeq.size === 20);
    await first.close();

    const second = await openLog(dir);
    expect(second.stats).toMatchObject({ ackedSeq: 10, lastSeq: 20, unacked: 10 });
    const resent = store();
    second.setSender((events) => {
      resent.put(events);
      second.ack(events[events.length - 1].seq);
    });
    await until(() => resent.bySeq.size === 10);
    expect([...resent.bySeq.keys()]).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(second.append(statement(21)).seq).toBe(21);
  });

  it('resends everything unacked on a new sender (reconnect) and after an ack timeout', async () => {
    const dir = await tempDir();
    const eventLog = await openLog(dir, { ackTimeoutMs: 200 });
    const sent: number[] = [];
    eventLog.setSender((events) => sent.push(...events.map((e) => e.seq)));
    for (let i = 1; i <= 5; i += 1) eventLog.append(statement(i));
    await until(() => sent.length === 5);
    eventLog.setSender(undefined);
    eventLog.setSender((events) => sent.push(...events.map((e) => e.seq)));
    await until(() => sent.length === 10);
    expect(sent).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    await until(() => sent.length === 15, 2000); // no ack: resent after the timeout
    eventLog.ack(5);
    expect(eventLog.stats.unacked).toBe(0);
  });

  it('keeps a large backlog on disk and still delivers all of it in order', async () => {
    const dir = await tempDir();
    const eventLog = await openLog(dir, { maxInMemory: 1000, maxInFlight: 400, maxBatch: 200, fsync: false });
    for (let i = 1; i <= 5000; i += 1) eventLog.append(statement(i));
    await eventLog.flush();
    const db = store();
    eventLog.setSender((events) => {
      db.put(events);
      setImmediate(() => eventLog.ack(events[events.length - 1].seq));
    });
    await until(() => db.bySeq.size === 5000, 20_000);
    expect([...db.bySeq.keys()].every((seq, i) => seq === i + 1)).toBe(true);
    expect(db.batches.flat().length).toBe(5000); // exactly once: nothing resent
  });

  it('loses nothing when the process is killed (SIGKILL) between append and ack', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'event-log-writer.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let durable = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = chunk.toString().trim().split('\n');
      durable = Math.max(durable, Number(lines[lines.length - 1]));
    });
    await until(() => durable >= 2000, 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const reported = durable;

    const eventLog = await openLog(dir);
    const db = store();
    eventLog.setSender((events) => {
      db.put(events);
      eventLog.ack(events[events.length - 1].seq);
    });
    const total = eventLog.stats.lastSeq;
    expect(total).toBeGreaterThanOrEqual(reported);
    await until(() => db.bySeq.size === total, 10_000);
    const seqs = [...db.bySeq.keys()].sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(db.batches.flat().length).toBe(total);
    const sqls = new Set([...db.bySeq.values()].map((e) => (e.type === 'statement' ? e.sql : '')));
    expect(sqls.size).toBe(total);
  });
});
