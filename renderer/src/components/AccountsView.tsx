import { memo, useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AccountGroup, AccountInfo, GatewayHealth } from '../../../main/ipc/contract.ts';
import { formatDuration } from '../lib/durations.ts';
import { formatDateTime } from '../shared/format.ts';
import { accountSelectors, useAccountsStore } from '../store/accounts.ts';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';
import { useUiStore } from '../store/ui.ts';
import { ClientProfiles } from './ClientProfiles.tsx';

/** How often the list (and each resource's gateway health) is refreshed while shown. */
const HEALTH_REFRESH_MS = 10_000;

export function AccountsView() {
  const groups = useAccountsStore(useShallow(accountSelectors.filteredGroups));
  const status = useAccountsStore(accountSelectors.status);
  const error = useAccountsStore(accountSelectors.error);
  const query = useAccountsStore(accountSelectors.query);
  const total = useAccountsStore(accountSelectors.count);

  // gateway health changes: refresh when the list is shown again, and while it is shown
  useEffect(() => {
    if (useAccountsStore.getState().status === 'loaded') void useAccountsStore.getState().load();
    const timer = setInterval(() => void useAccountsStore.getState().load(), HEALTH_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  return (
    <section aria-labelledby="accounts-title">
      <header className="view-header">
        <h2 id="accounts-title">Accounts</h2>
        <input
          type="search"
          className="search"
          aria-label="Search accounts"
          placeholder="Search resources and accounts"
          value={query}
          onChange={(e) => useAccountsStore.getState().setQuery(e.target.value)}
        />
      </header>
      {status === 'loading' && total === 0 && (
        <p className="muted" aria-busy="true">
          Loading accounts…
        </p>
      )}
      {status === 'error' && error && (
        <div className="error" role="alert">
          {error.message}{' '}
          <button type="button" className="link" onClick={() => void useAccountsStore.getState().load()}>
            Retry
          </button>
        </div>
      )}
      {status === 'loaded' && total === 0 && <p className="empty">No accounts yet. Ask an administrator to give you access to a database.</p>}
      {status === 'loaded' && total > 0 && groups.length === 0 && <p className="empty">Nothing matches “{query}”.</p>}
      {groups.map((g) => (
        <ResourceGroup key={`${g.projectId}/${g.resource.id}`} group={g} />
      ))}
    </section>
  );
}

/** The resource's gateway: linked to Gatehouse, or offline since when. */
function GatewayHealthTag({ health }: { health: GatewayHealth | undefined }) {
  if (!health) return null;
  if (health.status === 'connected')
    return (
      <span className="tag gateway-ok" data-testid="gateway-health">
        Gateway online
      </span>
    );
  const seen = health.lastSeenAt ? `last seen ${formatDateTime(health.lastSeenAt)}` : 'never seen';
  return (
    <span
      className="tag gateway-offline"
      data-testid="gateway-health"
      title={`The gateway in front of this database is not linked to Gatehouse (${seen}); sessions cannot connect until it is back.`}
    >
      Gateway offline · {seen}
    </span>
  );
}

const ResourceGroup = memo(function ResourceGroup({ group }: { group: AccountGroup }) {
  const headingId = `res-${group.resource.id}`;
  return (
    <section className="card group" aria-labelledby={headingId}>
      <header className="group-header">
        <h3 id={headingId}>{group.resource.name}</h3>
        <span className="muted small">
          database <code>{group.resource.database}</code> · {group.projectName}
        </span>
        <GatewayHealthTag health={group.accounts[0]?.gateway} />
      </header>
      <ul className="rows" aria-label={`Accounts on ${group.resource.name}`}>
        {group.accounts.map((a) => (
          <AccountRow key={a.id} group={group} account={a} />
        ))}
      </ul>
    </section>
  );
});

const AccountRow = memo(function AccountRow({ group, account }: { group: AccountGroup; account: AccountInfo }) {
  const runningId = useSessionsStore(sessionSelectors.runningFor(group.projectId, group.resource.name, account.name));
  const [profilesOpen, setProfilesOpen] = useState(false);
  const panelId = `acct-profiles-${account.id}`;
  return (
    <li className="row" aria-label={`${account.name} on ${group.resource.name}`}>
      <div className="row-main">
        <div className="row-title">
          {account.name}
          {account.requireMfa && (
            <span className="tag mfa" title="Needs a second factor">
              MFA
            </span>
          )}
          {account.requireApproval && (
            <span className="tag approval" title="Needs approval">
              Approval
            </span>
          )}
          {runningId && <span className="tag live">Active</span>}
          {account.maxDurationSeconds !== undefined && <span className="muted small">up to {formatDuration(account.maxDurationSeconds)}</span>}
        </div>
        <div className="muted small">
          user <code>{account.username}</code>
          {account.port ? (
            <>
              {' '}
              · port <code>{account.port}</code>
            </>
          ) : null}
          {account.description ? ` · ${account.description}` : ''}
        </div>
      </div>
      <div className="row-buttons">
        <button type="button" aria-expanded={profilesOpen} aria-controls={panelId} onClick={() => setProfilesOpen(!profilesOpen)}>
          Profiles
        </button>
        {runningId ? (
          <button
            type="button"
            onClick={() => {
              useUiStore.getState().selectSession(runningId);
              useUiStore.getState().show('sessions');
            }}
          >
            Open session
          </button>
        ) : (
          <button type="button" className="primary" onClick={() => useUiStore.getState().openAccess({ group, account })}>
            Access
          </button>
        )}
      </div>
      {profilesOpen && (
        <div id={panelId} className="row-profiles">
          <ClientProfiles projectId={group.projectId} resource={group.resource.name} account={account.name} />
        </div>
      )}
    </li>
  );
});
