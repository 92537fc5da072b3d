/** Wires main-process pushes into the stores; returns the cleanup. */
import { ipc } from '../ipc.ts';
import { useAccessFlow } from './access-flow.ts';
import { useAuthStore } from './auth.ts';
import { openAccessLink } from './open-access.ts';
import { useSessionsStore } from './sessions.ts';
import { useUiStore } from './ui.ts';

export function connectEvents(): () => void {
  const offs = [
    ipc.on('session-status', (s) => useSessionsStore.getState().upsert(s)),
    ipc.on('auth-changed', (a) => useAuthStore.getState().setAuth(a)),
    ipc.on('notification', (n) => useUiStore.getState().toast({ kind: n.kind, title: n.title, body: n.body })),
    ipc.on('open-access', (e) => void openAccessLink(e)),
    ipc.on('access-progress', (p) => useAccessFlow.getState().progress(p)),
    ipc.on('system-resumed', (r) => useUiStore.getState().setResume(r)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
