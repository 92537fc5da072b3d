import { useEffect } from 'react';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { useAccountsStore } from '../store/accounts.ts';
import { requestSelectors, resetSeenRequests, useRequestsStore } from '../store/requests.ts';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';
import { uiSelectors, useUiStore, type View } from '../store/ui.ts';
import { AccessDialog } from './AccessDialog.tsx';
import { AccountsView } from './AccountsView.tsx';
import { ApprovalsView } from './ApprovalsView.tsx';
import { HistoryView } from './HistoryView.tsx';
import { Logo } from '../shared/Logo.tsx';
import { ProfileView } from './ProfileView.tsx';
import { RequestsView } from './RequestsView.tsx';
import { ResumeBanner } from './ResumeBanner.tsx';
import { SessionsView } from './SessionsView.tsx';
import { SettingsView } from './SettingsView.tsx';

/** How often pending requests are checked (the Approvals badge and the "new request" notification). */
const REQUESTS_POLL_MS = 5_000;

export function Shell() {
  const user = useAuthStore(authSelectors.user);
  const serverUrl = useAuthStore(authSelectors.serverUrl);
  const view = useUiStore(uiSelectors.view);
  const active = useSessionsStore(sessionSelectors.activeCount);
  const toDecide = useRequestsStore(requestSelectors.decidableCount(user?.id));
  const minePending = useRequestsStore(requestSelectors.minePendingCount);

  useEffect(() => {
    void useAccountsStore.getState().load();
    void useSessionsStore.getState().loadLive();
    resetSeenRequests();
    void useRequestsStore.getState().loadMine();
    void useRequestsStore.getState().load();
    const timer = setInterval(() => void useRequestsStore.getState().load(), REQUESTS_POLL_MS);
    return () => clearInterval(timer);
  }, [user?.id]);

  const nav: { view: View; label: string; count?: number; countLabel?: string }[] = [
    { view: 'accounts', label: 'Accounts' },
    { view: 'sessions', label: 'Sessions', count: active, countLabel: 'active' },
    { view: 'approvals', label: 'Approvals', count: toDecide, countLabel: 'waiting for you' },
    { view: 'requests', label: 'My requests', count: minePending, countLabel: 'pending' },
    { view: 'history', label: user?.isAdmin ? 'All sessions' : 'My sessions' },
    { view: 'profile', label: 'Profile' },
    { view: 'settings', label: 'Settings' },
  ];

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <Logo />
          <span>Gatehouse</span>
        </div>
        <ul>
          {nav.map((n) => (
            <li key={n.view}>
              <button
                type="button"
                className={view === n.view ? 'nav current' : 'nav'}
                aria-current={view === n.view ? 'page' : undefined}
                onClick={() => useUiStore.getState().show(n.view)}
              >
                {n.label}
                {n.count ? (
                  <span className="badge" role="img" data-testid={`badge-${n.view}`} aria-label={`${n.count} ${n.countLabel ?? ''}`}>
                    {n.count}
                  </span>
                ) : null}
              </button>
            </li>
          ))}
        </ul>
        <div className="me">
          <div className="me-name" title={user?.email}>
            {user?.name || user?.email}
          </div>
          <div className="muted small" title={serverUrl}>
            {serverUrl?.replace(/^https?:\/\//, '')}
          </div>
          <button type="button" className="link" onClick={() => void useAuthStore.getState().signOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main className="content">
        <ResumeBanner />
        {view === 'accounts' && <AccountsView />}
        {view === 'sessions' && <SessionsView />}
        {view === 'approvals' && <ApprovalsView />}
        {view === 'requests' && <RequestsView />}
        {view === 'history' && <HistoryView />}
        {view === 'profile' && <ProfileView />}
        {view === 'settings' && <SettingsView />}
      </main>
      <AccessDialog />
    </div>
  );
}
