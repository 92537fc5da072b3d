import { useState, type FormEvent } from 'react';
import type { MfaEnrollment } from '../../../main/ipc/contract.ts';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { QrCode } from './QrCode.tsx';

/** Scan the QR code (or type the key), then confirm with a code from the app. */
export function EnrollTotpFields({ enrollment, submitLabel, onCancel }: { enrollment: MfaEnrollment; submitLabel: string; onCancel?: () => void }) {
  const busy = useAuthStore(authSelectors.signingIn);
  const error = useAuthStore(authSelectors.error);
  const [code, setCode] = useState('');
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void useAuthStore
      .getState()
      .confirmEnrollment(code.trim())
      .then((ok) => {
        if (!ok) setCode('');
      });
  }
  return (
    <form className="enroll" onSubmit={onSubmit} aria-label="Set up an authenticator app">
      <p>Scan this code with your authenticator app (Google Authenticator, 1Password, Authy…), then enter the 6-digit code it shows.</p>
      <QrCode text={enrollment.otpauthUrl} label="QR code to add Gatehouse to an authenticator app" />
      <p className="small muted">
        Or enter this key: <code data-testid="totp-secret">{enrollment.secret}</code>
      </p>
      <label>
        Authentication code
        <input name="code" inputMode="numeric" autoComplete="one-time-code" required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
      </label>
      {error && (
        <p className="error" role="alert" data-code={error.code}>
          {error.message}
        </p>
      )}
      <div className="actions left">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** The recovery codes just issued, over whatever screen is up, until the person says they saved them. */
export function RecoveryCodesDialog() {
  const codes = useAuthStore(authSelectors.recoveryCodes);
  if (!codes) return null;
  return (
    <div className="backdrop">
      <div className="card dialog" role="dialog" aria-modal="true" aria-labelledby="codes-title">
        <h2 id="codes-title">Save your recovery codes</h2>
        <p>Your authenticator app is set up. Each of these codes signs you in once if you lose it; they are shown only now.</p>
        <ul className="codes" aria-label="Recovery codes">
          {codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <div className="actions">
          <button type="button" className="primary" autoFocus onClick={() => useAuthStore.getState().dismissRecoveryCodes()}>
            I saved them
          </button>
        </div>
      </div>
    </div>
  );
}
