/**
 * CPU time and peak resident memory of the bench's processes, from /proc (Linux). Elsewhere
 * every figure is undefined and the bench prints "n/a".
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of `pid` so far, in ms. */
export async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (which may hold spaces) start after its ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Restarts `pid`'s peak-RSS count (VmHWM) from its current RSS; needs to own the process. */
export async function resetPeakRss(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
}

/** Peak resident set of `pid` since start or the last resetPeakRss, in MB. */
export async function peakRssMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** CPU ms each named process spent while `work` ran. */
export async function cpuDuring<T>(
  pids: Record<string, number | undefined>,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number | undefined> }> {
  const before = Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([name, pid]) => [name, await cpuMs(pid)] as const)));
  const result = await work();
  const cpu: Record<string, number | undefined> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const after = await cpuMs(pid);
    const start = before[name];
    cpu[name] = after === undefined || start === undefined ? undefined : after - start;
  }
  return { result, cpu };
}
