import { useState, type FormEvent } from 'react';
import type { MfaMethod } from '../../../main/ipc/contract.ts';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { Logo } from '../shared/Logo.tsx';
import { MfaFields, orderMethods } from '../shared/MfaFields.tsx';
import { EnrollTotpFields } from './MfaEnrollment.tsx';

export function SignIn() {
  const rememberedUrl = useAuthStore(authSelectors.serverUrl);
  const expired = useAuthStore(authSelectors.expired);
  const signingIn = useAuthStore(authSelectors.signingIn);
  const error = useAuthStore(authSelectors.error);
  const mfa = useAuthStore(authSelectors.mfa);
  const emailSent = useAuthStore(authSelectors.emailSent);
  const enroll = useAuthStore(authSelectors.enroll);
  const { signIn, submitMfa, sendEmailCode, cancelMfa } = useAuthStore.getState();
  const [serverUrl, setServerUrl] = useState(rememberedUrl ?? '');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [method, setMethod] = useState<MfaMethod>('totp');

  // A new MFA challenge resets the code and picks its first method (adjusted while rendering).
  const [challengeId, setChallengeId] = useState<string | undefined>(undefined);
  if (mfa?.challengeId !== challengeId) {
    setChallengeId(mfa?.challengeId);
    if (mfa) {
      setCode('');
      setMethod(orderMethods(mfa.methods)[0] ?? 'totp');
    }
  }

  if (enroll?.challengeId) {
    return (
      <main className="signin">
        <div className="card signin-card">
          <div className="brand">
            <Logo />
            <h1 id="signin-title">Set up your authenticator</h1>
          </div>
          <p className="small">Your organization requires an authenticator app for signing in.</p>
          {enroll.enrollment ? (
            <EnrollTotpFields enrollment={enroll.enrollment} submitLabel="Turn on and sign in" onCancel={() => useAuthStore.getState().cancelEnrollment()} />
          ) : (
            <p className="muted" aria-busy="true">
              Preparing…
            </p>
          )}
        </div>
      </main>
    );
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (mfa) void submitMfa(method, code.trim());
    else void signIn({ serverUrl, email, password });
  }

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={onSubmit} aria-labelledby="signin-title">
        <div className="brand">
          <Logo />
          <h1 id="signin-title">{mfa ? 'Verify it’s you' : 'Sign in to Gatehouse'}</h1>
        </div>
        {expired && !mfa && (
          <p className="notice" role="status">
            Your sign-in expired. Sign in again; running sessions keep going.
          </p>
        )}
        {mfa ? (
          <MfaFields
            methods={mfa.methods}
            method={method}
            code={code}
            emailSent={emailSent}
            onMethod={(m) => {
              setMethod(m);
              setCode('');
            }}
            onCode={setCode}
            onSendEmail={() => void sendEmailCode()}
          />
        ) : (
          <>
            <label>
              Server URL
              <input
                name="serverUrl"
                type="url"
                placeholder="https://gatehouse.example.com"
                required
                autoFocus={!rememberedUrl}
                value={serverUrl}
                onChange={(e) => setServerUrl(e.target.value)}
              />
            </label>
            <label>
              Email
              <input
                name="email"
                type="email"
                autoComplete="username"
                required
                autoFocus={Boolean(rememberedUrl)}
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            </label>
            <label>
              Password
              <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
          </>
        )}
        {error && (
          <p className="error" role="alert" data-code={error.code}>
            {error.message}
          </p>
        )}
        <button type="submit" className="primary" disabled={signingIn}>
          {signingIn ? (mfa ? 'Verifying…' : 'Signing in…') : mfa ? 'Verify' : 'Sign in'}
        </button>
        {mfa && (
          <button type="button" className="link back" onClick={cancelMfa}>
            Back to sign-in
          </button>
        )}
      </form>
    </main>
  );
}
