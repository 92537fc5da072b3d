import type { MfaMethod } from '../../../main/ipc/contract.ts';

export const METHOD_LABELS: Record<MfaMethod, string> = {
  totp: 'Authenticator app',
  email: 'Email code',
  recovery: 'Recovery code',
};

/** Order in which methods are offered: the app first, then email, then a recovery code. */
export function orderMethods(methods: readonly MfaMethod[]): MfaMethod[] {
  const list: MfaMethod[] = methods.length > 0 ? [...methods] : ['totp'];
  return (['totp', 'email', 'recovery'] as const).filter((m) => list.includes(m));
}

interface Props {
  methods: readonly MfaMethod[];
  method: MfaMethod;
  code: string;
  emailSent: boolean;
  sending?: boolean;
  onMethod: (method: MfaMethod) => void;
  onCode: (code: string) => void;
  onSendEmail: () => void;
}

/** The second-factor fields: which method (when there is a choice), the code, and "Send code" for email. */
export function MfaFields({ methods, method, code, emailSent, sending, onMethod, onCode, onSendEmail }: Props) {
  const offered = orderMethods(methods);
  return (
    <fieldset className="mfa">
      <legend>Second factor</legend>
      {offered.length > 1 && (
        <div className="mfa-methods" role="radiogroup" aria-label="Method">
          {offered.map((m) => (
            <label key={m} className="check">
              <input type="radio" name="mfa-method" value={m} checked={method === m} onChange={() => onMethod(m)} />
              {METHOD_LABELS[m]}
            </label>
          ))}
        </div>
      )}
      {method === 'email' && (
        <div className="mfa-email">
          <button type="button" onClick={onSendEmail} disabled={sending}>
            {emailSent ? 'Send another code' : 'Send code'}
          </button>
          {emailSent && (
            <span className="muted small" role="status">
              Code sent; check your email (valid 10 minutes).
            </span>
          )}
        </div>
      )}
      <label>
        {method === 'recovery' ? 'Recovery code' : 'Authentication code'}
        <input
          name="code"
          inputMode={method === 'recovery' ? 'text' : 'numeric'}
          autoComplete="one-time-code"
          autoFocus
          required
          value={code}
          onChange={(e) => onCode(e.target.value)}
        />
      </label>
      {method === 'totp' && <p className="muted small">Enter the 6-digit code your authenticator app shows.</p>}
    </fieldset>
  );
}
