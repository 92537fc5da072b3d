import { useEffect } from 'react';

declare global {
  /** Set by tests only (before the page loads): commits per counted component, by key. */
  interface Window {
    __gatehouseRenders?: Record<string, number>;
  }
}

/**
 * Counts this component's committed renders under `key` in `window.__gatehouseRenders`,
 * when (and only when) a test has put that object there; otherwise a no-op.
 */
export function useCommitCount(key: string): void {
  useEffect(() => {
    const counts = window.__gatehouseRenders;
    if (counts) counts[key] = (counts[key] ?? 0) + 1;
  });
}
