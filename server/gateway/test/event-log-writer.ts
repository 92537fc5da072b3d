/**
 * Child process for the durability test: appends events to the log in argv[2], prints the
 * highest durable seq after each flush, and runs until it is killed.
 */
import { EventLog } from '../event-log.ts';

const dir = process.argv[2];
const eventLog = await EventLog.open(dir, { flushIntervalMs: 20 });
let n = 0;
for (;;) {
  for (let i = 0; i < 50; i += 1) {
    n += 1;
    eventLog.append({
      type: 'statement',
      sessionId: 's1',
      connectionId: 'c1',
      at: new Date().toISOString(),
      protocol: 'simple',
      sql: `select ${n}`,
      durationMs: 1,
      outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 },
    });
  }
  await eventLog.flush();
  process.stdout.write(`${eventLog.stats.durableSeq}\n`);
  await new Promise((r) => setTimeout(r, 5));
}
