/** The console's address bar: a path per screen, history-based so links and reloads work. */
import { create } from 'zustand';

interface RouteStore {
  path: string;
  navigate(path: string): void;
}

export const useRoute = create<RouteStore>()((set) => ({
  path: window.location.pathname,
  navigate: (path) => {
    if (path !== window.location.pathname) window.history.pushState(null, '', path);
    set({ path });
    document.getElementById('main')?.focus();
  },
}));

window.addEventListener('popstate', () => useRoute.setState({ path: window.location.pathname }));

/** `/sessions/abc` against `/sessions/:id` → `{ id: 'abc' }`. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.replace(/\/+$/, '').split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return undefined;
  }
  return params;
}
