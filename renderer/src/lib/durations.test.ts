import { describe, expect, it } from 'vitest';
import { choicesUpTo, formatDuration, parseDuration } from './durations.ts';

describe('issue 14 item 5: durations within the policy', () => {
  it('parses what people type and refuses what is not a duration', () => {
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration(' 45 M ')).toBe(2_700);
    expect(parseDuration('2h')).toBe(7_200);
    expect(parseDuration('600')).toBe(600);
    expect(parseDuration('0m')).toBeUndefined();
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('offers only the choices up to the policy maximum (all without one)', () => {
    expect(choicesUpTo(3_600).map((c) => c.value)).toEqual(['15m', '1h']);
    expect(choicesUpTo(600)).toEqual([]);
    expect(choicesUpTo(undefined).map((c) => c.value)).toEqual(['15m', '1h', '4h', '8h']);
  });

  it('formats a maximum for people', () => {
    expect(formatDuration(3_600)).toBe('1 h');
    expect(formatDuration(5_400)).toBe('90 min');
    expect(formatDuration(45)).toBe('45 s');
  });
});
