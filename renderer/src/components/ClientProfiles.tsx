import { useEffect } from 'react';
import { copyText } from '../shared/clipboard.ts';
import { profileKey, profileSelectors, useProfilesStore } from '../store/profiles.ts';
import { useUiStore } from '../store/ui.ts';

/**
 * One account's client profiles: a `pg_service.conf` entry (`psql service=…`) and a DBeaver
 * connection, written and kept current by the main process, so saved connections keep
 * working across sessions; removed on request.
 */
export function ClientProfiles({ projectId, resource, account }: { projectId: string; resource: string; account: string }) {
  const target = { projectId, resource, account };
  const key = profileKey(target);
  const profiles = useProfilesStore(profileSelectors.forAccount(target));
  const busy = useProfilesStore(profileSelectors.busy(key));
  const error = useProfilesStore(profileSelectors.error(key));
  useEffect(() => {
    if (!useProfilesStore.getState().loaded) void useProfilesStore.getState().load();
  }, []);
  const service = profiles.find((p) => p.kind === 'pg-service');
  const dbeaver = profiles.find((p) => p.kind === 'dbeaver');
  const headingId = `profiles-${key.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
  const psqlLine = service ? `psql service=${service.name}` : '';

  return (
    <section className="profiles" aria-labelledby={headingId}>
      <h4 id={headingId}>Client profiles</h4>
      {profiles.length === 0 ? (
        <p className="muted small">Save this account in psql’s service file and in DBeaver, so saved connections keep working in every session.</p>
      ) : (
        <ul className="profile-list">
          {service && (
            <li>
              <span className="small">
                psql service in <code>{service.file}</code>
              </span>
              <div className="url-row">
                <input readOnly aria-label="psql command" value={psqlLine} onFocus={(e) => e.currentTarget.select()} />
                <button
                  type="button"
                  onClick={() =>
                    void copyText(psqlLine).then((ok) => {
                      if (ok) useUiStore.getState().toast({ kind: 'info', title: 'psql command copied', body: psqlLine });
                    })
                  }
                >
                  Copy
                </button>
              </div>
            </li>
          )}
          {dbeaver && (
            <li className="small">
              DBeaver connection <strong>{dbeaver.name}</strong> in <code>{dbeaver.file}</code>
            </li>
          )}
        </ul>
      )}
      <div className="actions left">
        <button type="button" disabled={busy} onClick={() => void useProfilesStore.getState().write(target)}>
          {profiles.length === 0 ? 'Write psql and DBeaver profiles' : 'Update profiles'}
        </button>
        {profiles.length > 0 && (
          <button type="button" disabled={busy} onClick={() => void useProfilesStore.getState().remove(target)}>
            Remove profiles
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert" data-code={error.code}>
          {error.message}
        </p>
      )}
    </section>
  );
}
