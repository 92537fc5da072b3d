import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionEvent, UnsequencedSessionEvent } from '../../../proxy-core/src/recorder/events.ts';
import { mountSmallFs, type SmallFs } from '../../../test/fixtures/small-fs.ts';
import { EventAckTracker } from '../../control/relay/event-acks.ts';
import { Registry } from 'prom-client';
import { EventLog } from '../event-log.ts';
import { registerEventLogMetrics } from '../event-log-metrics.ts';

const dirs: string[] = [];
const logs: EventLog[] = [];
const mounts: SmallFs[] = [];

afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  for (const m of mounts.splice(0)) await m.unmount();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-eventlog-disk-'));
  dirs.push(dir);
  return dir;
}

async function openLog(dir: string, opts: Parameters<typeof EventLog.open>[1] = {}): Promise<EventLog> {
  const eventLog = await EventLog.open(dir, { flushIntervalMs: 20, reserveBytes: 64 * 1024, minFreeBytes: 0, ...opts });
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
    sql: `insert into counter values (${n})`,
    durationMs: 1,
    outcome: { status: 'ok', tag: 'INSERT 0 1' },
  };
}

function line(seq: number): string {
  return `${JSON.stringify({ ...statement(seq), seq })}\n`;
}

function fileSeqs(dir: string): number[] {
  const text = readFileSync(join(dir, 'events.jsonl'), 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as SessionEvent).seq);
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The control plane's side: store by seq, ack as the real tracker does. */
function controlPlane(eventLog: EventLog) {
  const tracker = new EventAckTracker();
  const stored = new Map<number, SessionEvent>();
  eventLog.setSender((events) => {
    for (const e of events) stored.set(e.seq, e);
    const ack = tracker.stored(events[0].seq, events[events.length - 1].seq);
    if (ack !== undefined) setImmediate(() => eventLog.ack(ack));
  });
  return stored;
}

describe('issue 9 item 2: a torn event log at startup is recovered and reported', () => {
  it('cuts a torn last line (a kill or a full disk mid-write), reports it, keeps the bytes aside and continues the seq', async () => {
    const dir = await tempDir();
    const torn = line(4).slice(0, 37);
    await writeFile(join(dir, 'events.jsonl'), line(1) + line(2) + line(3) + torn);
    const eventLog = await openLog(dir);
    expect(eventLog.recovery).toEqual({ droppedLines: 1, droppedBytes: torn.length, tornTail: true, gaps: [] });
    expect(eventLog.stats).toMatchObject({ lastSeq: 3, ackedSeq: 0 });
    expect(eventLog.append(statement(4)).seq).toBe(4);
    expect(fileSeqs(dir)).toEqual([1, 2, 3, 4]);
    expect(await readFile(join(dir, 'events.torn'), 'utf8')).toContain(torn);
    const stored = controlPlane(eventLog);
    await until(() => eventLog.stats.ackedSeq === 4);
    expect([...stored.keys()]).toEqual([1, 2, 3, 4]);
  });

  it('drops an unreadable line in the middle (the old torn write followed by more events), reports the gap and still gets every later event acked', async () => {
    const dir = await tempDir();
    // What the old writer left after a short write: a partial line with the next event glued on.
    const glued = line(3).slice(0, 50) + line(4);
    await writeFile(join(dir, 'events.jsonl'), line(1) + line(2) + glued + line(5) + line(6) + '{"seq":7,"type":');
    const eventLog = await openLog(dir, { maxBatch: 2 });
    expect(eventLog.recovery.droppedLines).toBe(2);
    expect(eventLog.recovery.tornTail).toBe(false);
    expect(eventLog.recovery.gaps).toEqual([{ from: 3, to: 4 }]);
    expect(fileSeqs(dir)).toEqual([1, 2, 5, 6]);
    const stored = controlPlane(eventLog);
    // The control plane only acks over batches without a hole between them: the batch
    // that ends before the gap carries the event after it.
    await until(() => eventLog.stats.ackedSeq === 6);
    expect([...stored.keys()].sort((a, b) => a - b)).toEqual([1, 2, 5, 6]);
    expect(eventLog.append(statement(7)).seq).toBe(7);
    await until(() => eventLog.stats.ackedSeq === 7);
  });

  it('opens a log that is nothing but garbage without crashing', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'events.jsonl'), 'not json\n{"seq":"x"}\n\u0000\u0000\u0000');
    const eventLog = await openLog(dir);
    expect(eventLog.recovery).toMatchObject({ droppedLines: 3, tornTail: true });
    expect(eventLog.append(statement(1)).seq).toBe(1);
    expect(fileSeqs(dir)).toEqual([1]);
  });
});

const smallFs = await mountSmallFs(1024 * 1024).then(async (fs) => {
  if (typeof fs === 'string') return fs;
  await fs.unmount();
  return undefined;
});

describe.skipIf(smallFs !== undefined)(`issue 9 item 1: the event log on a full disk fails closed${smallFs ? ` (skipped: ${smallFs})` : ''}`, () => {
  it('writes whole lines or nothing, spends the reserve on running statements, refuses with 53100, and recovers when space returns', async () => {
    const fs = (await mountSmallFs(1024 * 1024)) as SmallFs;
    mounts.push(fs);
    const eventLog = await openLog(fs.dir, { reserveBytes: 128 * 1024, minFreeBytes: 0, warnFreeBytes: 512 * 1024, diskCheckIntervalMs: 50 });
    expect(eventLog.refusal()).toBeUndefined();
    expect((await stat(join(fs.dir, 'events.reserve'))).size).toBe(128 * 1024);
    expect(eventLog.health.lowSpace).toBe(false);

    const filler = fs.fill();
    await until(() => eventLog.health.lowSpace);
    // Events of statements already running: the first failed write releases the reserve and
    // every event is still written, in order, without a gap or a torn line.
    let n = 0;
    while (eventLog.refusal() === undefined) eventLog.append(statement(++n));
    expect(eventLog.refusal()).toMatchObject({ sqlstate: '53100', message: expect.stringMatching(/recording is unavailable.*out of disk space.*not run/) });
    expect(eventLog.refusal()?.hint).toMatch(/Free space/);
    expect(eventLog.health.recording).toMatchObject({ state: 'unavailable', cause: 'disk-full', errno: 'ENOSPC' });
    for (let i = 0; i < 20; i += 1) eventLog.append(statement(++n));
    await until(() => eventLog.stats.durableSeq === n);
    expect(fileSeqs(fs.dir)).toEqual(Array.from({ length: n }, (_, i) => i + 1));

    // Fill the freed reserve too: now appends cannot be written and wait, seq kept.
    const filler2 = fs.fill('filler2');
    const durableBefore = eventLog.stats.durableSeq;
    let queuedOne = false;
    for (let i = 0; i < 2000 && !queuedOne; i += 1) {
      eventLog.append(statement(++n));
      queuedOne = eventLog.health.pendingWrites > 0;
    }
    expect(queuedOne).toBe(true);
    expect(eventLog.stats.durableSeq).toBeLessThan(n);
    expect(eventLog.stats.durableSeq).toBeGreaterThanOrEqual(durableBefore);
    expect(fileSeqs(fs.dir)).toEqual(Array.from({ length: eventLog.stats.durableSeq }, (_, i) => i + 1)); // short write cut back

    // Space returns: pending events are written, the reserve is back, recording resumes.
    await rm(filler);
    await rm(filler2);
    await until(() => eventLog.refusal() === undefined, 5000);
    expect(eventLog.stats.durableSeq).toBe(n);
    expect(fileSeqs(fs.dir)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect((await stat(join(fs.dir, 'events.reserve'))).size).toBe(128 * 1024);
    expect(eventLog.health.lowSpace).toBe(false);
  });

  it('refuses before the disk is full once free space drops under minFreeBytes, with a warning flag earlier still', async () => {
    const fs = (await mountSmallFs(1024 * 1024)) as SmallFs;
    mounts.push(fs);
    const eventLog = await openLog(fs.dir, { reserveBytes: 64 * 1024, minFreeBytes: 256 * 1024, warnFreeBytes: 640 * 1024, diskCheckIntervalMs: 50 });
    await writeFile(join(fs.dir, 'ballast'), Buffer.alloc(400 * 1024));
    const registry = new Registry();
    registerEventLogMetrics(registry, () => eventLog);
    await until(() => eventLog.health.lowSpace);
    expect(eventLog.refusal()).toBeUndefined(); // warned, still recording
    const metrics = await registry.metrics();
    expect(metrics).toContain('gatehouse_gateway_data_dir_low_space 1');
    expect(metrics).toContain('gatehouse_gateway_recording_available 1');
    expect(Number(/gatehouse_gateway_data_dir_free_bytes (\d+)/.exec(metrics)?.[1])).toBeLessThan(640 * 1024);
    await writeFile(join(fs.dir, 'ballast2'), Buffer.alloc(400 * 1024));
    await until(() => eventLog.refusal() !== undefined);
    expect(eventLog.health.recording).toMatchObject({ state: 'unavailable', cause: 'low-space' });
    expect(eventLog.refusal()?.sqlstate).toBe('53100');
    expect(await registry.metrics()).toContain('gatehouse_gateway_recording_available 0');
    await rm(join(fs.dir, 'ballast2'));
    await until(() => eventLog.refusal() === undefined);
  });
});

describe.skipIf(smallFs !== undefined)(`issue 9 item 1: what the operator reads in the gateway's log${smallFs ? ` (skipped: ${smallFs})` : ''}`, () => {
  it('logs the repaired torn tail at start, a low-space warning well before refusing, the refusal, and the recovery', async () => {
    const fs = (await mountSmallFs(1024 * 1024)) as SmallFs;
    mounts.push(fs);
    await writeFile(join(fs.dir, 'events.jsonl'), line(1) + line(2).slice(0, 30));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'event-log-child.ts'), fs.dir, String(640 * 1024), String(256 * 1024), String(64 * 1024)],
      {
        env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      await until(() => stdout.includes('ready'), 20_000);
      expect(stdout).toContain('ready 1');
      const logLines = () =>
        stderr
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { level: number; msg: string; [k: string]: unknown });
      expect(logLines().find((l) => /torn write/.test(l.msg))).toMatchObject({ level: 40, droppedLines: 1, tornTail: true });

      await writeFile(join(fs.dir, 'ballast'), Buffer.alloc(400 * 1024));
      await until(() => logLines().some((l) => /low on space/.test(l.msg)), 5000);
      const warning = logLines().find((l) => /low on space/.test(l.msg))!;
      expect(warning).toMatchObject({ level: 40, warnFreeBytes: 640 * 1024, minFreeBytes: 256 * 1024 });
      expect(warning.msg).toMatch(/MiB free; recording stops \(statements refused\) below 0\.\d MiB/);
      expect(logLines().some((l) => /recording unavailable/.test(l.msg))).toBe(false);

      await writeFile(join(fs.dir, 'ballast2'), Buffer.alloc(400 * 1024));
      await until(() => logLines().some((l) => /recording unavailable/.test(l.msg)), 5000);
      expect(logLines().find((l) => /recording unavailable/.test(l.msg))).toMatchObject({ level: 50, cause: 'low-space' });

      await rm(join(fs.dir, 'ballast2'));
      await until(() => logLines().some((l) => /recording is available again/.test(l.msg)), 5000);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }, 40_000);
});
