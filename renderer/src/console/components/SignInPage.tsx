/** Sign-in: password, then the second factor when asked, or TOTP enrollment when enforced. */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { MfaMethod } from '../../../../main/ipc/contract.ts';
import { Logo } from '../../shared/Logo.tsx';
import { MfaFields, orderMethods } from '../../shared/MfaFields.tsx';
import { publicCall } from '../api.ts';
import { uiError, useSession, type UiError } from '../store/session.ts';
import { ErrorText } from './ui.tsx';

export function AuthCard({ title, children, onSubmit }: { title: string; children: ReactNode; onSubmit: (e: FormEvent) => void }) {
  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={onSubmit} aria-labelledby="signin-title">
        <div className="brand">
          <Logo />
          <h1 id="signin-title">{title}</h1>
        </div>
        {children}
      </form>
    </main>
  );
}

export function SignInPage() {
  const phase = useSession((s) => s.phase);
  const busy = useSession((s) => s.busy);
  const error = useSession((s) => s.error);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [method, setMethod] = useState<MfaMethod>('totp');
  const mfaToken = phase.kind === 'mfa' ? phase.mfaToken : undefined;

  // A new MFA step resets the code and picks its first method (adjusted while rendering).
  const [shownMfaToken, setShownMfaToken] = useState<string | undefined>(undefined);
  if (mfaToken !== shownMfaToken) {
    setShownMfaToken(mfaToken);
    if (phase.kind === 'mfa') setMethod(orderMethods(phase.methods)[0] ?? 'totp');
    setCode('');
  }

  if (phase.kind === 'enroll') return <EnrollTotp />;
  if (phase.kind === 'recovery-codes') return <RecoveryCodes codes={phase.codes} />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (phase.kind === 'mfa') void useSession.getState().verify(method, code.trim());
    else void useSession.getState().signIn(email, password);
  };

  return (
    <AuthCard title={phase.kind === 'mfa' ? 'Verify it’s you' : 'Sign in to Gatehouse'} onSubmit={submit}>
      {phase.kind === 'mfa' ? (
        <MfaFields
          methods={phase.methods}
          method={method}
          code={code}
          emailSent={phase.emailSent}
          sending={busy}
          onMethod={(m) => {
            setMethod(m);
            setCode('');
          }}
          onCode={setCode}
          onSendEmail={() => void useSession.getState().sendEmailCode()}
        />
      ) : (
        <>
          <label>
            Email
            <input name="email" type="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
        </>
      )}
      <ErrorText error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Signing in…' : phase.kind === 'mfa' ? 'Verify' : 'Sign in'}
      </button>
      {phase.kind === 'mfa' && (
        <button type="button" className="link back" onClick={() => useSession.setState({ phase: { kind: 'signed-out' }, error: undefined })}>
          Back to sign-in
        </button>
      )}
    </AuthCard>
  );
}

/** The organization enforces TOTP and this user has none: scan, then confirm a code. */
function EnrollTotp() {
  const phase = useSession((s) => s.phase);
  const busy = useSession((s) => s.busy);
  const error = useSession((s) => s.error);
  const [code, setCode] = useState('');
  if (phase.kind !== 'enroll') return null;
  return (
    <AuthCard
      title="Set up your authenticator"
      onSubmit={(e) => {
        e.preventDefault();
        void useSession.getState().confirmEnrollment(code.trim());
      }}
    >
      <p>Your organization requires an authenticator app. Scan this code with it, then enter the 6-digit code it shows.</p>
      {phase.qrDataUrl && <img className="qr" src={phase.qrDataUrl} alt="QR code to add Gatehouse to an authenticator app" width={180} height={180} />}
      {phase.secret && (
        <p className="small muted">
          Or enter this key: <code data-testid="totp-secret">{phase.secret}</code>
        </p>
      )}
      <label>
        Authentication code
        <input name="code" inputMode="numeric" autoComplete="one-time-code" required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
      </label>
      <ErrorText error={error} />
      <button type="submit" className="primary" disabled={busy}>
        Turn on and sign in
      </button>
    </AuthCard>
  );
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <AuthCard
      title="Save your recovery codes"
      onSubmit={(e) => {
        e.preventDefault();
        void useSession.getState().finishRecoveryCodes();
      }}
    >
      <p>Each code signs you in once if you lose your authenticator. They are shown only now.</p>
      <ul className="codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <button type="submit" className="primary" autoFocus>
        I saved them
      </button>
    </AuthCard>
  );
}

/** What the invitation code's holder may learn before accepting (`POST /auth/accept-invitation/preview`). */
interface InvitationPreview {
  invitation: { email: string; projectName: string | null; role: string | null };
  existingAccount: boolean;
}

/**
 * `/accept-invitation#code=…`: a new user sets a password; someone who already has an account
 * enters its password to join the project. Then the usual sign-in steps (TOTP enrollment when enforced).
 */
export function AcceptInvitationPage() {
  const busy = useSession((s) => s.busy);
  const error = useSession((s) => s.error);
  const phase = useSession((s) => s.phase);
  const [code] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('code') ?? '');
  const [preview, setPreview] = useState<InvitationPreview | undefined>();
  const [previewError, setPreviewError] = useState<UiError | undefined>();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);

  useEffect(() => {
    if (!code) return;
    publicCall<InvitationPreview>('POST', '/auth/accept-invitation/preview', { code }).then(setPreview, (err: unknown) => setPreviewError(uiError(err)));
  }, [code]);

  if (phase.kind === 'enroll' || phase.kind === 'recovery-codes' || phase.kind === 'mfa') return <SignInPage />;
  const existing = preview?.existingAccount === true;
  const project = preview?.invitation.projectName ?? undefined;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!existing && password !== repeat) return setMismatch(true);
    setMismatch(false);
    if (await useSession.getState().acceptInvitation(code, password, existing ? '' : name.trim())) {
      window.history.replaceState(null, '', '/');
    }
  };
  if (existing) {
    return (
      <AuthCard title={project ? `Join ${project}` : 'Join Gatehouse'} onSubmit={(e) => void submit(e)}>
        <p>
          You already have a Gatehouse account ({preview.invitation.email}): enter its password to join {project ?? 'this invitation’s project'}.
        </p>
        <label>
          Password of your Gatehouse account
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            autoFocus
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorText error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Joining…' : 'Join'}
        </button>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Join Gatehouse" onSubmit={(e) => void submit(e)}>
      {!code && (
        <p className="error" role="alert">
          This link has no invitation code. Open the link from your invitation exactly as you received it.
        </p>
      )}
      <p>You were invited to Gatehouse{project ? ` (${project})` : ''}. Choose a password to finish your account.</p>
      <label>
        Your name
        <input name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      </label>
      <label>
        Password (at least 8 characters)
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <label>
        Repeat password
        <input name="repeat" type="password" autoComplete="new-password" minLength={8} required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
      </label>
      {mismatch && (
        <p className="error" role="alert">
          The passwords differ.
        </p>
      )}
      <ErrorText error={error ?? previewError} />
      <button type="submit" className="primary" disabled={busy || !code}>
        Create account
      </button>
    </AuthCard>
  );
}
