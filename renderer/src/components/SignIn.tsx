import { useState, type FormEvent } from 'react';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { Logo } from './Logo.tsx';

export function SignIn() {
  const rememberedUrl = useAuthStore(authSelectors.serverUrl);
  const expired = useAuthStore(authSelectors.expired);
  const signingIn = useAuthStore(authSelectors.signingIn);
  const error = useAuthStore(authSelectors.error);
  const mfa = useAuthStore(authSelectors.mfa);
  const { signIn, submitMfa } = useAuthStore.getState();
  const [serverUrl, setServerUrl] = useState(rememberedUrl ?? '');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (mfa) void submitMfa(code);
    else void signIn({ serverUrl, email, password });
  }

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={onSubmit} aria-labelledby="signin-title">
        <div className="brand"><Logo /><h1 id="signin-title">Sign in to Gatehouse</h1></div>
        {expired && <p className="notice" role="status">Your sign-in expired. Sign in again; running sessions keep going.</p>}
        {mfa ? (
          <label>Authentication code
            <input name="code" inputMode="numeric" autoComplete="one-time-code" autoFocus required value={code} onChange={(e) => setCode(e.target.value)} />
          </label>
        ) : (
          <>
            <label>Server URL
              <input name="serverUrl" type="url" placeholder="https://gatehouse.example.com" required autoFocus={!rememberedUrl}
                value={serverUrl} onChange={(e) => setServerUrl(e.target.value)} />
            </label>
            <label>Email
              <input name="email" type="email" autoComplete="username" required autoFocus={Boolean(rememberedUrl)}
                value={email} onChange={(e) => setEmail(e.target.value)} />
            </label>
            <label>Password
              <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
          </>
        )}
        {error && <p className="error" role="alert" data-code={error.code}>{error.message}</p>}
        <button type="submit" className="primary" disabled={signingIn}>{signingIn ? 'Signing in…' : mfa ? 'Verify' : 'Sign in'}</button>
      </form>
    </main>
  );
}
