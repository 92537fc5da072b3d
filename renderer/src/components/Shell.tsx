import { useEffect } from 'react';
import { authSelectors, useAuthStore } from '../store/auth.ts';
import { useAccountsStore } from '../store/accounts.ts';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';
import { uiSelectors, useUiStore, type View } from '../store/ui.ts';
import { AccessDialog } from './AccessDialog.tsx';
import { AccountsView } from './AccountsView.tsx';
import { ApprovalsView } from './ApprovalsView.tsx';
import { HistoryView } from './HistoryView.tsx';
import { Logo } from '../shared/Logo.tsx';
import { SessionsView } from './SessionsView.tsx';
import { SettingsView } from './SettingsView.tsx';

const NAV: { view: View; label: string }[] = [
  { view: 'accounts', label: 'Accounts' },
  { view: 'sessions', label: 'Sessions' },
  { view: 'approvals', label: 'Approvals' },
  { view: 'history', label: 'My sessions' },
  { view: 'settings', label: 'Settings' },
];

export function Shell() {
  const user = useAuthStore(authSelectors.user);
  const serverUrl = useAuthStore(authSelectors.serverUrl);
  const view = useUiStore(uiSelectors.view);
  const active = useSessionsStore(sessionSelectors.activeCount);

  useEffect(() => {
    void useAccountsStore.getState().load();
    void useSessionsStore.getState().loadLive();
  }, []);

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand"><Logo /><span>Gatehouse</span></div>
        <ul>
          {NAV.map((n) => (
            <li key={n.view}>
              <button type="button" className={view === n.view ? 'nav current' : 'nav'} aria-current={view === n.view ? 'page' : undefined}
                onClick={() => useUiStore.getState().show(n.view)}>
                {n.label}
                {n.view === 'sessions' && active > 0 && <span className="badge" aria-label={`${active} active`}>{active}</span>}
              </button>
            </li>
          ))}
        </ul>
        <div className="me">
          <div className="me-name" title={user?.email}>{user?.name || user?.email}</div>
          <div className="muted small" title={serverUrl}>{serverUrl?.replace(/^https?:\/\//, '')}</div>
          <button type="button" className="link" onClick={() => void useAuthStore.getState().signOut()}>Sign out</button>
        </div>
      </nav>
      <main className="content">
        {view === 'accounts' && <AccountsView />}
        {view === 'sessions' && <SessionsView />}
        {view === 'approvals' && <ApprovalsView />}
        {view === 'history' && <HistoryView />}
        {view === 'settings' && <SettingsView />}
      </main>
      <AccessDialog />
    </div>
  );
}
