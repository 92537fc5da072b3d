/** The console: sign-in or invitation pages, else the signed-in layout with one screen per path. */
import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Logo } from '../../shared/Logo.tsx';
import { match, useRoute } from '../store/route.ts';
import { useRole, useSession, type Role } from '../store/session.ts';
import { AccessPage } from './AccessPage.tsx';
import { AuditPage } from './AuditPage.tsx';
import { GatewaysPage } from './GatewaysPage.tsx';
import { PoliciesPage } from './PoliciesPage.tsx';
import { RequestsPage } from './RequestsPage.tsx';
import { ResourcePage, ResourcesPage } from './ResourcesPage.tsx';
import { SessionLogPage } from './SessionLogPage.tsx';
import { SessionsPage } from './SessionsPage.tsx';
import { AcceptInvitationPage, SignInPage } from './SignInPage.tsx';
import { Link } from './ui.tsx';
import { UsersPage } from './UsersPage.tsx';

// Web Access (issue 12) loads on demand: CodeMirror and the grids stay out of the first load.
const WebAccessScreen = lazy(() => import('../webaccess/WebAccessScreen.tsx').then((m) => ({ default: m.WebAccessScreen })));
const webAccess = (id: string, view: 'explorer' | 'terminal') => (
  <Suspense
    fallback={
      <p className="muted" aria-busy="true">
        Loading…
      </p>
    }
  >
    <WebAccessScreen id={id} view={view} />
  </Suspense>
);

interface Screen {
  path: string;
  label: string;
  roles: Role[];
  nav: boolean;
  instanceAdmin?: boolean;
  render(params: Record<string, string>): ReactNode;
}

const SCREENS: Screen[] = [
  { path: '/gateways', label: 'Gateways', roles: ['admin'], nav: true, render: () => <GatewaysPage /> },
  { path: '/resources', label: 'Resources', roles: ['admin', 'auditor'], nav: true, render: () => <ResourcesPage /> },
  { path: '/resources/:id', label: 'Resource', roles: ['admin', 'auditor'], nav: false, render: (p) => <ResourcePage id={p.id} /> },
  { path: '/access', label: 'My access', roles: ['admin', 'member'], nav: true, render: () => <AccessPage /> },
  { path: '/web/:id/data', label: 'Data Explorer', roles: ['admin', 'member'], nav: false, render: (p) => webAccess(p.id, 'explorer') },
  { path: '/web/:id/sql', label: 'SQL terminal', roles: ['admin', 'member'], nav: false, render: (p) => webAccess(p.id, 'terminal') },
  { path: '/users', label: 'Users', roles: ['admin'], nav: true, render: () => <UsersPage /> },
  { path: '/policies', label: 'Policies', roles: ['admin'], nav: true, render: () => <PoliciesPage /> },
  { path: '/requests', label: 'Access requests', roles: ['admin', 'member', 'auditor'], nav: true, render: () => <RequestsPage /> },
  { path: '/sessions', label: 'Sessions', roles: ['admin', 'member', 'auditor'], nav: true, render: () => <SessionsPage /> },
  { path: '/sessions/:id', label: 'Session log', roles: ['admin', 'member', 'auditor'], nav: false, render: (p) => <SessionLogPage id={p.id} /> },
  { path: '/audit', label: 'Audit', roles: ['admin', 'auditor'], nav: true, render: () => <AuditPage /> },
];

export function ConsoleApp() {
  const phase = useSession((s) => s.phase);
  const path = useRoute((s) => s.path);
  useEffect(() => {
    if (path !== '/accept-invitation') void useSession.getState().restore();
    else useSession.setState({ phase: { kind: 'signed-out' } });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  if (phase.kind === 'loading')
    return (
      <main className="center" aria-busy="true">
        <p className="muted">Loading…</p>
      </main>
    );
  if (path === '/accept-invitation' && phase.kind !== 'signed-in') return <AcceptInvitationPage />;
  if (phase.kind !== 'signed-in') return <SignInPage />;
  return <Layout />;
}

function Layout() {
  const me = useSession((s) => s.me);
  const projects = useSession((s) => s.projects);
  const projectId = useSession((s) => s.projectId);
  const role = useRole();
  const path = useRoute((s) => s.path);
  const allowed = SCREENS.filter((s) => role !== undefined && s.roles.includes(role));
  const current = allowed.map((s) => ({ s, params: match(s.path, path) })).find((x) => x.params);

  useEffect(() => {
    if (!current && allowed.length > 0) useRoute.getState().navigate(allowed[0].path);
  }, [current, allowed]);

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <Logo />
          <span>Gatehouse</span>
        </div>
        {projects.length > 1 && (
          <label className="project-pick">
            Project
            <select value={projectId} onChange={(e) => useSession.getState().selectProject(e.target.value)}>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <ul>
          {allowed
            .filter((s) => s.nav)
            .map((s) => {
              const here = current?.s.path === s.path || path.startsWith(`${s.path}/`);
              return (
                <li key={s.path}>
                  <Link to={s.path} className={here ? 'nav current' : 'nav'}>
                    {s.label}
                  </Link>
                </li>
              );
            })}
        </ul>
        <div className="me">
          <div className="me-name" title={me?.email}>
            {me?.name || me?.email}
          </div>
          <div className="muted small">{role ? `${me?.isAdmin ? 'instance admin' : role}` : 'no project'}</div>
          <button type="button" className="link" onClick={() => void useSession.getState().signOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main className="content" id="main" tabIndex={-1}>
        {role === undefined && <p className="empty">You are not a member of any project yet. Ask an administrator to add you.</p>}
        {current && projectId && current.s.render(current.params ?? {})}
      </main>
    </div>
  );
}
