/**
 * Capped exponential backoff with jitter: a random delay in [ceiling/2, ceiling] where
 * ceiling = min(cap, base * 2^attempt). Half the step is kept so a fleet of gateways never
 * redials in a tight loop, the other half is random so they do not redial in step.
 */
export function backoffDelay(attempt: number, baseMs = 250, capMs = 4_000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

/** "250 ms", "4.2 s": a delay as a person reads it in a log line. */
export function formatDelay(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
