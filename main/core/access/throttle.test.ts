import { describe, expect, it } from 'vitest';
import { Throttle } from './throttle.ts';

describe('Throttle (status events ≤ 4/s per session)', () => {
  it('collapses a burst into at most one call per interval and always delivers the last one', async () => {
    const calls: number[] = [];
    let value = 0;
    const t = new Throttle(() => calls.push(value), 250);
    const started = Date.now();
    while (Date.now() - started < 1_000) {
      value++;
      t.request();
      await new Promise((r) => setTimeout(r, 5));
    }
    await t.flush();
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.length).toBeLessThanOrEqual(6); // 1 s of requests: leading + ≤ 4/s + trailing
    expect(calls.at(-1)).toBe(value); // the final state is never dropped
  });
});
