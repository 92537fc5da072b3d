export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Capped low so a tunnel is back within a few seconds of the server (queries within 5 s). */
export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 3_000 };

/** Exponential backoff with ±20 % jitter: attempt 0 waits about `initialDelayMs`. */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const base = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** Math.min(attempt, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
