/**
 * Child process for the operator-log test: opens the event log in argv[2] with the disk
 * thresholds in argv[3..5] (warn, min free, reserve bytes), says "ready" on stdout, and runs
 * until it is killed. Its log lines (stderr) are what an operator sees.
 */
import { EventLog } from '../event-log.ts';

const [dir, warn, min, reserve] = process.argv.slice(2);
const eventLog = await EventLog.open(dir, { warnFreeBytes: Number(warn), minFreeBytes: Number(min), reserveBytes: Number(reserve), diskCheckIntervalMs: 50 });
process.stdout.write(`ready ${eventLog.stats.lastSeq}\n`);
setInterval(() => undefined, 1000);
