/**
 * The permission matrix: every role × every route/action, as real HTTP calls against one
 * running control plane (PGlite). Destructive actions get fresh fixtures per cell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { ADMIN, call, connectGateway, login, startTestPlane, type TestGateway, type TestPlane } from './helpers.ts';

const ROLES = ['instanceAdmin', 'projectAdmin', 'memberWithPolicy', 'memberWithout', 'auditor', 'otherProjectAdmin', 'disabledUser', 'noToken'] as const;
type Role = (typeof ROLES)[number];
type Expect = number | [number, string];

interface Ctx {
  t: TestPlane;
  admin: string;
  tokens: Record<Role, string | undefined>;
  ids: Record<Role, string>;
  resourceId: string;
  roId: string;
  gatedId: string;
  groupId: string;
  /** A group in no policy, for the group-membership cells. */
  scratchGroupId: string;
  sessionId: string;
  pem: string;
}

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

let ctx: Ctx;
let gateway: TestGateway;
let seq = 0;
const fresh = (p: string) => `${p}-${++seq}`;

async function as(token: string, method: string, path: string, body?: unknown) {
  const res = await call(ctx.t.url, method, path, { token, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

async function newUser(): Promise<string> {
  const email = `${fresh('victim')}@example.com`;
  return (await as(ctx.admin, 'POST', '/api/v1/users', { email, password: 'victim password' })).user.id;
}

async function memberSession(): Promise<string> {
  const body = await as(ctx.tokens.memberWithPolicy!, 'POST', '/api/v1/sessions', {
    projectId: ctx.t.projectId,
    resource: 'orders',
    account: 'ro',
    duration: '1h',
    publicKeyPem: ctx.pem,
  });
  return body.session.id;
}

async function memberRequest(): Promise<string> {
  const body = await as(ctx.tokens.memberWithPolicy!, 'POST', '/api/v1/access-requests', {
    projectId: ctx.t.projectId,
    resource: 'orders',
    account: 'gated',
    duration: '30m',
    reason: 'matrix',
  });
  return body.request.id;
}

const P = () => ctx.t.projectId;

//                                                       inst  padm  mem+  mem-  aud   other disabled none
const MATRIX: [string, () => Call | Promise<Call>, Expect[]][] = [
  ['users: list', () => ({ method: 'GET', path: '/api/v1/users' }), [200, 403, 403, 403, 403, 403, 401, 401]],
  [
    'users: a filtered page (console)',
    () => ({ method: 'GET', path: '/api/v1/users?q=example&disabled=false&limit=2' }),
    [200, 403, 403, 403, 403, 403, 401, 401],
  ],
  [
    'users: create',
    () => ({ method: 'POST', path: '/api/v1/users', body: { email: `${fresh('u')}@example.com`, password: 'a password 1' } }),
    [201, 403, 403, 403, 403, 403, 401, 401],
  ],
  [
    'users: update',
    async () => ({ method: 'PATCH', path: `/api/v1/users/${await newUser()}`, body: { name: 'Renamed' } }),
    [200, 403, 403, 403, 403, 403, 401, 401],
  ],
  [
    'users: disable',
    async () => ({ method: 'PATCH', path: `/api/v1/users/${await newUser()}`, body: { disabled: true } }),
    [200, 403, 403, 403, 403, 403, 401, 401],
  ],
  ['users: delete', async () => ({ method: 'DELETE', path: `/api/v1/users/${await newUser()}` }), [200, 403, 403, 403, 403, 403, 401, 401]],
  ['users: reset MFA', async () => ({ method: 'DELETE', path: `/api/v1/users/${await newUser()}/mfa` }), [200, 403, 403, 403, 403, 403, 401, 401]],
  [
    'invitations: into the project',
    () => ({ method: 'POST', path: '/api/v1/users/invitations', body: { email: `${fresh('inv')}@example.com`, projectId: P(), role: 'member' } }),
    [201, 201, 403, 403, 403, 404, 401, 401],
  ],
  // issue 10 item 13: a project admin's invitation for an email with an account is created like any other.
  [
    'invitations: into the project, email with an account',
    () => ({ method: 'POST', path: '/api/v1/users/invitations', body: { email: ADMIN.email, projectId: P(), role: 'member' } }),
    [409, 201, 403, 403, 403, 404, 401, 401],
  ],
  [
    'invitations: instance-wide',
    () => ({ method: 'POST', path: '/api/v1/users/invitations', body: { email: `${fresh('inv')}@example.com` } }),
    [201, 403, 403, 403, 403, 403, 401, 401],
  ],
  ['members: list', () => ({ method: 'GET', path: `/api/v1/projects/${P()}/members` }), [200, 200, 403, 403, 403, 403, 401, 401]],
  [
    'members: a filtered page (console)',
    () => ({ method: 'GET', path: `/api/v1/projects/${P()}/members?role=member&q=example&limit=2` }),
    [200, 200, 403, 403, 403, 403, 401, 401],
  ],
  [
    'members: set',
    async () => ({ method: 'POST', path: `/api/v1/projects/${P()}/members`, body: { userId: await newUser(), role: 'member' } }),
    [200, 200, 403, 403, 403, 403, 401, 401],
  ],
  [
    'groups: create',
    () => ({ method: 'POST', path: `/api/v1/projects/${P()}/groups`, body: { name: fresh('group') } }),
    [201, 201, 403, 403, 403, 403, 401, 401],
  ],
  ['groups: list', () => ({ method: 'GET', path: `/api/v1/projects/${P()}/groups` }), [200, 200, 403, 403, 403, 403, 401, 401]],
  [
    'groups: add member',
    async () => ({ method: 'POST', path: `/api/v1/groups/${ctx.scratchGroupId}/members`, body: { userId: await newUser() } }),
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'groups: remove member',
    async () => {
      const userId = await newUser();
      await as(ctx.admin, 'POST', `/api/v1/groups/${ctx.scratchGroupId}/members`, { userId });
      return { method: 'DELETE', path: `/api/v1/groups/${ctx.scratchGroupId}/members/${userId}` };
    },
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'policies: create',
    async () => ({
      method: 'POST',
      path: `/api/v1/projects/${P()}/policies`,
      body: { name: fresh('policy'), users: [await newUser()], accounts: [ctx.roId], maxDurationSeconds: 60 },
    }),
    [201, 201, 403, 403, 403, 403, 401, 401],
  ],
  ['policies: list', () => ({ method: 'GET', path: `/api/v1/projects/${P()}/policies` }), [200, 200, 403, 403, 403, 403, 401, 401]],
  [
    'policies: delete',
    async () => {
      const body = await as(ctx.admin, 'POST', `/api/v1/projects/${P()}/policies`, {
        name: fresh('doomed'),
        groups: [ctx.scratchGroupId],
        accounts: [ctx.roId],
        maxDurationSeconds: 60,
      });
      return { method: 'DELETE', path: `/api/v1/policies/${body.policy.id}` };
    },
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'resources: create',
    () => ({ method: 'POST', path: `/api/v1/projects/${P()}/resources`, body: { name: fresh('db'), gatewayId: gateway.id, host: '127.0.0.1', database: 'x' } }),
    [201, 201, 403, 403, 403, 403, 401, 401],
  ],
  ['resources: list', () => ({ method: 'GET', path: `/api/v1/projects/${P()}/resources` }), [200, 200, 200, 200, 200, 403, 401, 401]],
  ['resources: get', () => ({ method: 'GET', path: `/api/v1/resources/${ctx.resourceId}` }), [200, 200, 200, 200, 200, 404, 401, 401]],
  [
    'resources: update',
    () => ({ method: 'PATCH', path: `/api/v1/resources/${ctx.resourceId}`, body: { port: 5432 } }),
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'accounts: create',
    () => ({ method: 'POST', path: `/api/v1/resources/${ctx.resourceId}/accounts`, body: { name: fresh('acct'), username: 'u', password: 'p' } }),
    [201, 201, 403, 403, 403, 404, 401, 401],
  ],
  [
    'accounts: update',
    () => ({ method: 'PATCH', path: `/api/v1/accounts/${ctx.roId}`, body: { description: 'read only' } }),
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'accounts: require approval',
    () => ({ method: 'PATCH', path: `/api/v1/accounts/${ctx.gatedId}`, body: { requireApproval: { requiredApprovals: 1 } } }),
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  ['credentials: status', () => ({ method: 'GET', path: `/api/v1/accounts/${ctx.roId}/credentials` }), [200, 200, 403, 403, 403, 404, 401, 401]],
  [
    'credentials: rotation settings',
    () => ({ method: 'PATCH', path: `/api/v1/accounts/${ctx.roId}/rotation`, body: { enabled: false, intervalDays: 30 } }),
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'credentials: rotation account',
    () => ({ method: 'GET', path: `/api/v1/resources/${ctx.resourceId}/rotation-account` }),
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'credentials: check connection',
    () => ({ method: 'POST', path: `/api/v1/projects/${P()}/resources/${ctx.resourceId}/accounts/${ctx.roId}/check` }),
    [200, 200, 403, 403, 403, 404, 401, 401],
  ],
  [
    'accounts: accessible list',
    () => ({ method: 'GET', path: `/api/v1/projects/${P()}/accounts` }),
    [200, 200, 200, 200, [403, 'GATEHOUSE_ERR_FORBIDDEN'], 403, 401, 401],
  ],
  [
    'gateways: create',
    () => ({ method: 'POST', path: '/api/v1/gateways', body: { name: fresh('gw'), projectId: P() } }),
    [201, 201, 403, 403, 403, 403, 401, 401],
  ],
  [
    'gateways: instance-wide create',
    () => ({ method: 'POST', path: '/api/v1/gateways', body: { name: fresh('gw') } }),
    [201, 403, 403, 403, 403, 403, 401, 401],
  ],
  ['gateways: list', () => ({ method: 'GET', path: '/api/v1/gateways' }), [200, 200, 200, 200, 200, 200, 401, 401]],
  [
    'sessions: create',
    () => ({ method: 'POST', path: '/api/v1/sessions', body: { projectId: P(), resource: 'orders', account: 'ro', duration: '1h', publicKeyPem: ctx.pem } }),
    [
      201,
      201,
      201,
      [403, 'GATEHOUSE_ERR_POLICY_DENIED'],
      [403, 'GATEHOUSE_ERR_FORBIDDEN'],
      403,
      [401, 'GATEHOUSE_ERR_USER_DISABLED'],
      [401, 'GATEHOUSE_ERR_UNAUTHENTICATED'],
    ],
  ],
  [
    'sessions: create on an account that requires approval, without a request',
    () => ({
      method: 'POST',
      path: '/api/v1/sessions',
      body: { projectId: P(), resource: 'orders', account: 'gated', duration: '10m', publicKeyPem: ctx.pem },
    }),
    [
      [403, 'GATEHOUSE_ERR_APPROVAL_REQUIRED'],
      [403, 'GATEHOUSE_ERR_APPROVAL_REQUIRED'],
      [403, 'GATEHOUSE_ERR_APPROVAL_REQUIRED'],
      [403, 'GATEHOUSE_ERR_POLICY_DENIED'],
      403,
      403,
      401,
      401,
    ],
  ],
  ['sessions: list', () => ({ method: 'GET', path: '/api/v1/sessions' }), [200, 200, 200, 200, 200, 200, 401, 401]],
  ['sessions: get', () => ({ method: 'GET', path: `/api/v1/sessions/${ctx.sessionId}` }), [200, 200, 200, 404, 200, 404, 401, 401]],
  ['sessions: logs', () => ({ method: 'GET', path: `/api/v1/sessions/${ctx.sessionId}/logs` }), [200, 200, 200, 404, 200, 404, 401, 401]],
  ['sessions: end', async () => ({ method: 'POST', path: `/api/v1/sessions/${await memberSession()}/end` }), [200, 200, 200, 404, 403, 404, 401, 401]],
  ['sessions: revoke', async () => ({ method: 'POST', path: `/api/v1/sessions/${await memberSession()}/revoke` }), [200, 200, 403, 404, 403, 404, 401, 401]],
  [
    'access requests: file',
    () => ({
      method: 'POST',
      path: '/api/v1/access-requests',
      body: { projectId: P(), resource: 'orders', account: 'gated', duration: '30m', reason: 'incident 42' },
    }),
    [201, 201, 201, [403, 'GATEHOUSE_ERR_POLICY_DENIED'], [403, 'GATEHOUSE_ERR_FORBIDDEN'], 404, 401, 401],
  ],
  ['access requests: list', () => ({ method: 'GET', path: '/api/v1/access-requests' }), [200, 200, 200, 200, 200, 200, 401, 401]],
  ['access requests: get', async () => ({ method: 'GET', path: `/api/v1/access-requests/${await memberRequest()}` }), [200, 200, 200, 404, 200, 404, 401, 401]],
  [
    'access requests: approve',
    async () => ({ method: 'POST', path: `/api/v1/access-requests/${await memberRequest()}/approve`, body: {} }),
    [200, 200, [403, 'GATEHOUSE_ERR_SELF_APPROVAL'], 404, [403, 'GATEHOUSE_ERR_FORBIDDEN'], 404, 401, 401],
  ],
  [
    'access requests: deny',
    async () => ({ method: 'POST', path: `/api/v1/access-requests/${await memberRequest()}/deny`, body: { comment: 'no' } }),
    [200, 200, [403, 'GATEHOUSE_ERR_SELF_APPROVAL'], 404, 403, 404, 401, 401],
  ],
  ['audit: read', () => ({ method: 'GET', path: `/api/v1/audit?projectId=${P()}` }), [200, 200, 403, 403, 200, 403, 401, 401]],
  // Routes the web console added (issue 11). The cookie sign-in routes are public (their
  // refusals are in test/e2e/console-security.test.ts); sign-out also needs the bearer token.
  ['console: session counters', () => ({ method: 'GET', path: `/api/v1/sessions/stats?ids=${ctx.sessionId}` }), [200, 200, 200, 200, 200, 200, 401, 401]],
  [
    'console: search a session log',
    () => ({ method: 'GET', path: `/api/v1/sessions/${ctx.sessionId}/logs/search?q=select` }),
    [200, 200, 200, 404, 200, 404, 401, 401],
  ],
  ['console: organization MFA setting (read)', () => ({ method: 'GET', path: '/api/v1/settings/mfa' }), [200, 403, 403, 403, 403, 403, 401, 401]],
  [
    'console: organization MFA setting (change)',
    () => ({ method: 'PATCH', path: '/api/v1/settings/mfa', body: { enforce: 'none' } }),
    [200, 403, 403, 403, 403, 403, 401, 401],
  ],
  ['console: audit chain status', () => ({ method: 'GET', path: '/api/v1/audit/verify' }), [200, 200, 403, 403, 200, 200, 401, 401]],
  // Web Access (issue 12): a web session opens under the rules of any session (its Data Explorer
  // and terminal routes need a real database; their owner-only matrix is in
  // web-access/test/terminal.test.ts). A session of kind proxy is no web session (404).
  [
    'web sessions: create on an account that requires approval, without a request',
    () => ({ method: 'POST', path: '/api/v1/web-sessions', body: { projectId: P(), resourceId: ctx.resourceId, accountId: ctx.gatedId, duration: '10m' } }),
    [
      [403, 'GATEHOUSE_ERR_APPROVAL_REQUIRED'],
      [403, 'GATEHOUSE_ERR_APPROVAL_REQUIRED'],
      [403, 'GATEHOUSE_ERR_APPROVAL_REQUIRED'],
      [403, 'GATEHOUSE_ERR_POLICY_DENIED'],
      [403, 'GATEHOUSE_ERR_FORBIDDEN'],
      403,
      401,
      401,
    ],
  ],
  [
    'web sessions: schema of a session that is not a web session',
    () => ({ method: 'GET', path: `/api/v1/web-sessions/${ctx.sessionId}/schema` }),
    [404, 404, 404, 404, 404, 404, 401, 401],
  ],
  [
    'web sessions: rows of a session that is not a web session',
    () => ({ method: 'POST', path: `/api/v1/web-sessions/${ctx.sessionId}/tables/public/t/rows`, body: {} }),
    [404, 404, 404, 404, 404, 404, 401, 401],
  ],
  [
    'web sessions: end a session that is not a web session',
    () => ({ method: 'DELETE', path: `/api/v1/web-sessions/${ctx.sessionId}` }),
    [404, 404, 404, 404, 404, 404, 401, 401],
  ],
  ['web sessions: query history', () => ({ method: 'GET', path: '/api/v1/web-sessions/history' }), [200, 200, 200, 200, 200, 200, 401, 401]],
  [
    'web sessions: add to the history of a session that is not a web session',
    () => ({ method: 'POST', path: '/api/v1/web-sessions/history', body: { sessionId: ctx.sessionId, sql: 'select 1' } }),
    [404, 404, 404, 404, 404, 404, 401, 401],
  ],
  [
    'console: cookie sign-out without the cookie',
    () => ({ method: 'POST', path: '/api/v1/auth/cookie/logout', body: {} }),
    [401, 401, 401, 401, 401, 401, 401, 401],
  ],
];

const CASES = MATRIX.flatMap(([action, build, expected]) =>
  ROLES.map((role, i) => {
    const e = expected[i];
    const [status, code] = Array.isArray(e) ? e : [e, undefined];
    return { action, role, status, code, build };
  }),
);

beforeAll(async () => {
  const t = await startTestPlane();
  const admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
  ctx = { t, admin, pem: generateKeyPair().publicKeyPem } as Ctx;
  gateway = await connectGateway(t, admin, 'gw-main');
  const resource = await as(admin, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
    name: 'orders',
    gatewayId: gateway.id,
    host: '127.0.0.1',
    database: 'orders',
  });
  ctx.resourceId = resource.resource.id;
  ctx.roId = (await as(admin, 'POST', `/api/v1/resources/${ctx.resourceId}/accounts`, { name: 'ro', username: 'ro', password: 'secret-ro' })).account.id;
  ctx.gatedId = (await as(admin, 'POST', `/api/v1/resources/${ctx.resourceId}/accounts`, { name: 'gated', username: 'rw', password: 'secret-rw' })).account.id;
  await as(admin, 'PATCH', `/api/v1/accounts/${ctx.gatedId}`, { requireApproval: { approverUsers: [], approverGroups: [], requiredApprovals: 1 } });
  const other = await as(admin, 'POST', '/api/v1/projects', { name: 'other' });

  const tokens = { instanceAdmin: admin, noToken: undefined } as Record<Role, string | undefined>;
  const ids = {} as Record<Role, string>;
  const setup: [Role, string, 'admin' | 'member' | 'auditor'][] = [
    ['projectAdmin', t.projectId, 'admin'],
    ['memberWithPolicy', t.projectId, 'member'],
    ['memberWithout', t.projectId, 'member'],
    ['auditor', t.projectId, 'auditor'],
    ['otherProjectAdmin', other.project.id, 'admin'],
    ['disabledUser', t.projectId, 'member'],
  ];
  for (const [role, projectId, projectRole] of setup) {
    const email = `${role.toLowerCase()}@example.com`;
    ids[role] = (await as(admin, 'POST', '/api/v1/users', { email, password: 'role password 1' })).user.id;
    await as(admin, 'POST', `/api/v1/projects/${projectId}/members`, { userId: ids[role], role: projectRole });
    tokens[role] = (await login(t.url, email, 'role password 1')).accessToken;
  }
  ctx.tokens = tokens;
  ctx.ids = ids;
  ctx.groupId = (await as(admin, 'POST', `/api/v1/projects/${t.projectId}/groups`, { name: 'oncall' })).group.id;
  ctx.scratchGroupId = (await as(admin, 'POST', `/api/v1/projects/${t.projectId}/groups`, { name: 'scratch' })).group.id;
  await as(admin, 'POST', `/api/v1/groups/${ctx.groupId}/members`, { userId: ids.memberWithPolicy });
  await as(admin, 'POST', `/api/v1/projects/${t.projectId}/policies`, {
    name: 'oncall-access',
    groups: [ctx.groupId],
    users: [ids.disabledUser],
    accounts: [ctx.roId, ctx.gatedId],
    maxDurationSeconds: 8 * 3600,
  });
  ctx.sessionId = await memberSession();
  await as(admin, 'PATCH', `/api/v1/users/${ids.disabledUser}`, { disabled: true });
}, 60_000);

afterAll(async () => {
  gateway?.close();
  await ctx?.t.close();
});

describe('permission matrix (role × route, real HTTP)', () => {
  it.each(CASES)('$action as $role → $status', async ({ role, status, code, build }) => {
    const request = await build();
    const res = await call(ctx.t.url, request.method, request.path, { token: ctx.tokens[role], body: request.body });
    expect({ status: res.status, code: res.body?.error?.code }).toMatchObject({ status, ...(code && { code }) });
    if (role === 'disabledUser') expect(res.body.error.code).toBe('GATEHOUSE_ERR_USER_DISABLED');
    if (role === 'noToken') expect(res.body.error.code).toBe('GATEHOUSE_ERR_UNAUTHENTICATED');
  });

  it('issue 11: session counters only answer for sessions the caller may see', async () => {
    const own = await call(ctx.t.url, 'GET', `/api/v1/sessions/stats?ids=${ctx.sessionId}`, { token: ctx.tokens.memberWithPolicy });
    expect(Object.keys(own.body.stats)).toEqual([ctx.sessionId]);
    expect(own.body.stats[ctx.sessionId]).toMatchObject({ connections: 0, statements: 0 });
    for (const role of ['memberWithout', 'otherProjectAdmin'] as const) {
      const other = await call(ctx.t.url, 'GET', `/api/v1/sessions/stats?ids=${ctx.sessionId}`, { token: ctx.tokens[role] });
      expect(other.body.stats).toEqual({});
    }
  });

  it('issue 11: a filtered, paged sessions list shows each role exactly the sessions GET /sessions/:id would', async () => {
    const sees: Partial<Record<Role, boolean>> = {
      instanceAdmin: true,
      projectAdmin: true,
      memberWithPolicy: true,
      memberWithout: false,
      auditor: true,
      otherProjectAdmin: false,
    };
    for (const [role, visible] of Object.entries(sees) as [Role, boolean][]) {
      for (const query of [`user=${ctx.ids.memberWithPolicy}`, 'resource=orders&account=ro', `projectId=${P()}&limit=500`]) {
        const res = await call(ctx.t.url, 'GET', `/api/v1/sessions?${query}`, { token: ctx.tokens[role] });
        expect(res.status, `${role} ${query}`).toBe(200);
        expect(
          res.body.sessions.some((x: { id: string }) => x.id === ctx.sessionId),
          `${role} ${query}`,
        ).toBe(visible);
      }
    }
  });

  it('a member sees exactly the accounts their policies grant, with limits; others see none', async () => {
    const mine = await call(ctx.t.url, 'GET', `/api/v1/projects/${P()}/accounts`, { token: ctx.tokens.memberWithPolicy });
    expect(
      mine.body.accounts.map((a: { name: string; requireApproval: boolean; maxDurationSeconds: number }) => [a.name, a.requireApproval, a.maxDurationSeconds]),
    ).toEqual([
      ['gated', true, 8 * 3600],
      ['ro', false, 8 * 3600],
    ]);
    const none = await call(ctx.t.url, 'GET', `/api/v1/projects/${P()}/accounts`, { token: ctx.tokens.memberWithout });
    expect(none.body.accounts).toEqual([]);
  });
});
