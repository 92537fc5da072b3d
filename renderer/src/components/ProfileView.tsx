import { useCallback, useEffect, useState } from 'react';
import type { ProfileInfo } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';
import { METHOD_LABELS } from '../shared/MfaFields.tsx';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { EnrollTotpFields } from './MfaEnrollment.tsx';

/** Who is signed in where, and their second factors, with TOTP enrollment in the app. */
export function ProfileView() {
  const [profile, setProfile] = useState<ProfileInfo>();
  const [error, setError] = useState<UiError>();
  const enroll = useAuthStore(authSelectors.enroll);
  const codes = useAuthStore(authSelectors.recoveryCodes);
  const load = useCallback(() => {
    ipc['auth.profile']().then(setProfile, (e) => setError(toUiError(e)));
  }, []);
  useEffect(() => {
    load();
  }, [load, codes]);

  return (
    <section aria-labelledby="profile-title">
      <header className="view-header">
        <h2 id="profile-title">Profile</h2>
      </header>
      {error && (
        <p className="error" role="alert" data-code={error.code}>
          {error.message}
        </p>
      )}
      {!profile && !error && (
        <p className="muted" aria-busy="true">
          Loading…
        </p>
      )}
      {profile && (
        <div className="card settings profile">
          <dl className="profile-facts">
            <div>
              <dt>Name</dt>
              <dd>{profile.user.name || '—'}</dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd>{profile.user.email}</dd>
            </div>
            <div>
              <dt>Role</dt>
              <dd>{profile.user.isAdmin ? 'Administrator' : 'Member'}</dd>
            </div>
            <div>
              <dt>Server</dt>
              <dd>
                <code>{profile.serverUrl}</code>
              </dd>
            </div>
          </dl>
          <h3>Two-factor authentication</h3>
          {profile.mfa.totp ? (
            <p data-testid="mfa-state">
              <span className="tag status-active">On</span> Authenticator app set up · {profile.mfa.recoveryCodesLeft} recovery code
              {profile.mfa.recoveryCodesLeft === 1 ? '' : 's'} left.
            </p>
          ) : (
            <p data-testid="mfa-state">
              <span className="tag">Off</span> No authenticator app yet.{profile.mfa.enforce === 'totp' ? ' Your organization requires one.' : ''}
            </p>
          )}
          <p className="muted small">
            Sessions on accounts that need a second factor accept:{' '}
            {profile.mfa.methods.map((m) => METHOD_LABELS[m]).join(', ') || 'nothing yet — set up an authenticator app'}.
            {profile.mfa.emailAvailable ? ' Email codes are available.' : ''}
          </p>
          {!profile.mfa.totp && !enroll && (
            <div className="actions left">
              <button type="button" className="primary" onClick={() => void useAuthStore.getState().startEnrollment()}>
                Set up authenticator app
              </button>
            </div>
          )}
          {enroll?.enrollment && !enroll.challengeId && (
            <EnrollTotpFields enrollment={enroll.enrollment} submitLabel="Turn on" onCancel={() => useAuthStore.getState().cancelEnrollment()} />
          )}
        </div>
      )}
    </section>
  );
}
