/** Session durations as people pick them: the usual choices, a typed one, and the policy's cap. */

export interface DurationChoice {
  value: string;
  seconds: number;
  label: string;
}

export const DURATION_CHOICES: readonly DurationChoice[] = [
  { value: '15m', seconds: 900, label: '15 minutes' },
  { value: '1h', seconds: 3_600, label: '1 hour' },
  { value: '4h', seconds: 14_400, label: '4 hours' },
  { value: '8h', seconds: 28_800, label: '8 hours' },
];

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** "90s", "45m", "2h", "600" → seconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(text);
  if (!m) return undefined;
  const seconds = Number(m[1]) * UNIT[(m[2] || 's').toLowerCase()];
  return seconds > 0 ? seconds : undefined;
}

/** The usual choices the policy allows (all of them when it names no maximum). */
export function choicesUpTo(maxSeconds: number | undefined, choices: readonly DurationChoice[] = DURATION_CHOICES): DurationChoice[] {
  return maxSeconds === undefined ? [...choices] : choices.filter((c) => c.seconds <= maxSeconds);
}

/** 3600 → "1 h", 5400 → "90 min", 45 → "45 s". */
export function formatDuration(seconds: number): string {
  if (seconds >= 3_600 && seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
