import { ErrorCodes, GatehouseError } from './errors.ts';

/**
 * setTimeout takes at most 2^31-1 ms (about 24.8 days); a longer delay fires at once.
 * Timers for far-off deadlines (session expiry) wait at most this long and re-arm.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay setTimeout honours: never negative, never past MAX_TIMER_MS. */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/**
 * Races `work` against a timer: the caller gets a TIMEOUT error after `ms` and the pending
 * work is abandoned (e.g. a locked keyring waiting forever for an unlock prompt).
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GatehouseError(ErrorCodes.TIMEOUT, `${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
