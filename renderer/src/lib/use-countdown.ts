import { useEffect, useState } from 'react';

/**
 * Milliseconds left until `iso`, re-rendering exactly when the whole seconds shown change
 * (so "0:00" is always shown for the last second, whatever the interval's phase), and no
 * more once it reaches 0.
 */
export function useCountdown(iso: string): number {
  const end = Date.parse(iso);
  const [now, setNow] = useState(() => Date.now());
  const remaining = Math.max(0, end - now);
  useEffect(() => {
    if (remaining <= 0) return;
    // the next time floor(remaining / 1000) changes, plus a little so we are past it
    const delay = ((remaining - 1) % 1000) + 1 + 5;
    const t = setTimeout(() => setNow(Date.now()), delay);
    return () => clearTimeout(t);
  }, [remaining]);
  return remaining;
}
