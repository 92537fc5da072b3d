import { useEffect } from 'react';
import { ipcAvailable } from '../ipc.ts';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { Shell } from './Shell.tsx';
import { SignIn } from './SignIn.tsx';
import { Toasts } from './Toasts.tsx';
import { RecoveryCodesDialog } from './MfaEnrollment.tsx';

export function App() {
  const auth = useAuthStore(authSelectors.auth);
  useEffect(() => {
    // for the "interactive within 1 s" measurement and for tests: the first real screen is up
    if (auth) document.documentElement.dataset.readyAt = String(Math.round(performance.now()));
  }, [auth]);

  if (!ipcAvailable) {
    return (
      <main className="center">
        <p role="alert">Open Gatehouse from the desktop app.</p>
      </main>
    );
  }
  if (!auth)
    return (
      <main className="center" aria-busy="true">
        <p className="muted">Starting…</p>
      </main>
    );
  return (
    <>
      {auth.state === 'signed-in' ? <Shell /> : <SignIn />}
      <RecoveryCodesDialog />
      <Toasts />
    </>
  );
}
