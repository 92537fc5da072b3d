/** Session durations: `'15m'`, `'1h'`, `'8h'`, `'90s'`, or a number of seconds. */
import { InvalidInputError } from '../../proxy-core/src/errors.ts';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

export function durationSeconds(value: string | number, maxSeconds: number): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else {
    const match = /^(\d+)([smh]?)$/.exec(value.trim());
    if (!match) throw new InvalidInputError(`duration: use a number of seconds or a value like '15m', '1h', '8h' (got "${value}")`, 'duration');
    seconds = Number(match[1]) * UNIT_SECONDS[(match[2] || 's') as keyof typeof UNIT_SECONDS];
  }
  if (!Number.isInteger(seconds) || seconds < 1) throw new InvalidInputError('duration: must be a whole number of seconds, at least 1', 'duration');
  if (seconds > maxSeconds) throw new InvalidInputError(`duration: at most ${maxSeconds} seconds (${maxSeconds / 3600} h) is allowed`, 'duration');
  return seconds;
}
