/**
 * Invitations, disabling and deleting users, policies with groups and durations, and access
 * requests from filing to an approved window — through one real control plane (PGlite).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { ADMIN, call, connectGateway, login, startTestPlane, type TestGateway, type TestPlane } from './helpers.ts';

let t: TestPlane;
let admin: string;
let gateway: TestGateway;
let gatedId: string;
let roId: string;
const pem = generateKeyPair().publicKeyPem;

async function as(token: string, method: string, path: string, body?: unknown) {
  const res = await call(t.url, method, path, { token, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

async function user(email: string, role: 'admin' | 'member' | 'auditor' = 'member'): Promise<{ id: string; token: string }> {
  const id = (await as(admin, 'POST', '/api/v1/users', { email, password: 'user password 1' })).user.id;
  await as(admin, 'POST', `/api/v1/projects/${t.projectId}/members`, { userId: id, role });
  return { id, token: (await login(t.url, email, 'user password 1')).accessToken };
}

const session = (token: string, account: string, extra: Record<string, unknown> = {}) =>
  call(t.url, 'POST', '/api/v1/sessions', {
    token,
    body: { projectId: t.projectId, resource: 'orders', account, duration: '1h', publicKeyPem: pem, ...extra },
  });

async function auditRows(action: string): Promise<{ action: string; source_address: string | null; details: Record<string, unknown> }[]> {
  const rows = await sql<{
    action: string;
    source_address: string | null;
    details: Record<string, unknown>;
  }>`select action, source_address, details from audit_events where action = ${action}`.execute(t.plane.store.db);
  return rows.rows;
}

beforeAll(async () => {
  t = await startTestPlane();
  admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
  gateway = await connectGateway(t, admin, 'gw-flows');
  const resource = await as(admin, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
    name: 'orders',
    gatewayId: gateway.id,
    host: '127.0.0.1',
    database: 'orders',
  });
  roId = (await as(admin, 'POST', `/api/v1/resources/${resource.resource.id}/accounts`, { name: 'ro', username: 'ro', password: 'pw-ro' })).account.id;
  gatedId = (await as(admin, 'POST', `/api/v1/resources/${resource.resource.id}/accounts`, { name: 'gated', username: 'rw', password: 'pw-rw' })).account.id;
}, 60_000);

afterAll(async () => {
  gateway?.close();
  await t?.close();
});

describe('invitations', () => {
  it('a one-time code sets the password, grants the invited role, and works once', async () => {
    const invited = await call(t.url, 'POST', '/api/v1/users/invitations', {
      token: admin,
      body: { email: 'New.Hire@example.com', name: 'New Hire', projectId: t.projectId, role: 'auditor' },
    });
    expect(invited.status).toBe(201);
    expect(invited.body.invitation).toMatchObject({ email: 'new.hire@example.com', projectId: t.projectId, role: 'auditor' });
    expect(Date.parse(invited.body.invitation.expiresAt) - Date.now()).toBeGreaterThan(71 * 3600_000);
    expect(invited.body.url).toContain(encodeURIComponent(invited.body.code));
    const code: string = invited.body.code;

    const accepted = await call(t.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: 'my own password' } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.user).toMatchObject({ email: 'new.hire@example.com', name: 'New Hire', isAdmin: false });
    const me = await call(t.url, 'GET', '/api/v1/me', { token: accepted.body.accessToken });
    expect(me.body.projects).toEqual([expect.objectContaining({ id: t.projectId, role: 'auditor' })]);
    expect((await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'new.hire@example.com', password: 'my own password' } })).status).toBe(200);

    const again = await call(t.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: 'another password' } });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('GATEHOUSE_ERR_INVITATION_INVALID');
    // The audit trail has the invitation and its use, never the code.
    const rows = [...(await auditRows('user.invite')), ...(await auditRows('user.invitation_accept'))];
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(rows)).not.toContain(code);
    expect(rows[0].source_address).toMatch(/127\.0\.0\.1/);
  });

  it('refuses an expired or unknown code with INVITATION_INVALID, and an email that already has a user', async () => {
    const invited = await as(admin, 'POST', '/api/v1/users/invitations', { email: 'late@example.com' });
    await sql`update invitations set expires_at = now() - interval '1 second' where id = ${invited.invitation.id}`.execute(t.plane.store.db);
    const late = await call(t.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code: invited.code, password: 'a password 1' } });
    expect(late.body.error.code).toBe('GATEHOUSE_ERR_INVITATION_INVALID');
    const unknown = await call(t.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code: 'ghi_nope', password: 'a password 1' } });
    expect(unknown.body.error.code).toBe('GATEHOUSE_ERR_INVITATION_INVALID');
    const dup = await call(t.url, 'POST', '/api/v1/users/invitations', { token: admin, body: { email: ADMIN.email } });
    expect(dup.status).toBe(409);
  });
});

describe('disabling and deleting users', () => {
  it('a disabled user is refused at once (old token, refresh, sign-in, tunnel) and their live sessions end', async () => {
    const email = 'leaver@example.com';
    const id = (await as(admin, 'POST', '/api/v1/users', { email, password: 'user password 1' })).user.id;
    await as(admin, 'POST', `/api/v1/projects/${t.projectId}/members`, { userId: id, role: 'admin' });
    const tokens = await login(t.url, email, 'user password 1');
    const live = await session(tokens.accessToken, 'ro');
    expect(live.status).toBe(201);
    const tunnel = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/sessions/${live.body.session.id}/tunnel`, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    await new Promise((resolve, reject) => (tunnel.once('open', resolve), tunnel.once('error', reject)));
    const closed = new Promise<number>((resolve) => tunnel.once('close', () => resolve(Date.now())));

    const disabledAt = Date.now();
    const patched = await call(t.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.user).toMatchObject({ id, disabled: true, mfa: { totp: false } });

    const old = await call(t.url, 'GET', '/api/v1/me', { token: tokens.accessToken });
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('GATEHOUSE_ERR_USER_DISABLED');
    expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: tokens.refreshToken } })).body.error.code).toBe(
      'GATEHOUSE_ERR_USER_DISABLED',
    );
    expect((await call(t.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'user password 1' } })).body.error.code).toBe(
      'GATEHOUSE_ERR_INVALID_CREDENTIALS',
    );
    expect((await closed) - disabledAt).toBeLessThan(1000);
    expect((await as(admin, 'GET', `/api/v1/sessions/${live.body.session.id}`)).session.status).toBe('revoked');
    // The gateway was told to close the session's connections.
    expect(await gateway.nextMessage((m) => m.type === 'session-ended' && m.sessionId === live.body.session.id, 1000)).toMatchObject({ reason: 'revoked' });

    const listed = await as(admin, 'GET', '/api/v1/users');
    expect(listed.users.find((u: { id: string }) => u.id === id)).toMatchObject({ email, disabled: true, isAdmin: false, mfa: { totp: false } });
    const [row] = (await auditRows('user.update')).filter((r) => r.details.email === email);
    expect(row.details).toMatchObject({ disabled: true, sessionsEnded: 1 });

    // Enabled again, the user signs in again.
    await as(admin, 'PATCH', `/api/v1/users/${id}`, { disabled: false });
    expect((await call(t.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'user password 1' } })).status).toBe(200);
  });

  it('an admin cannot disable or delete themselves; deleting a user removes memberships and refuses the token', async () => {
    const me = (await as(admin, 'GET', '/api/v1/me')).user.id;
    expect((await call(t.url, 'PATCH', `/api/v1/users/${me}`, { token: admin, body: { disabled: true } })).status).toBe(403);
    expect((await call(t.url, 'DELETE', `/api/v1/users/${me}`, { token: admin })).status).toBe(403);
    const gone = await user('gone@example.com');
    expect((await call(t.url, 'DELETE', `/api/v1/users/${gone.id}`, { token: admin })).status).toBe(200);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: gone.token })).status).toBe(401);
    const members = await as(admin, 'GET', `/api/v1/projects/${t.projectId}/members`);
    expect(members.members.map((m: { email: string }) => m.email)).not.toContain('gone@example.com');
  });
});

describe('policies', () => {
  it('grant through users or groups, cap the duration, and refuse the rest naming what is missing', async () => {
    const dana = await user('dana@example.com');
    const eve = await user('eve@example.com');
    const group = await as(admin, 'POST', `/api/v1/projects/${t.projectId}/groups`, { name: 'analysts' });
    await as(admin, 'POST', `/api/v1/groups/${group.group.id}/members`, { userId: eve.id });
    const policy = await as(admin, 'POST', `/api/v1/projects/${t.projectId}/policies`, {
      name: 'analysts-ro',
      groups: [group.group.id],
      users: [dana.id],
      accounts: [roId],
      maxDurationSeconds: 1800,
    });
    expect(policy.policy).toMatchObject({ name: 'analysts-ro', users: [dana.id], groups: [group.group.id], accounts: [roId], maxDurationSeconds: 1800 });

    const seen = await as(eve.token, 'GET', `/api/v1/projects/${t.projectId}/accounts`);
    expect(seen.accounts).toEqual([expect.objectContaining({ id: roId, name: 'ro', requireMfa: false, requireApproval: false, maxDurationSeconds: 1800 })]);

    const tooLong = await session(eve.token, 'ro');
    expect(tooLong.status).toBe(403);
    expect(tooLong.body.error.code).toBe('GATEHOUSE_ERR_POLICY_DENIED');
    expect(tooLong.body.error.message).toContain('analysts-ro');
    expect((await session(eve.token, 'ro', { duration: '30m' })).status).toBe(201);
    expect((await session(dana.token, 'ro', { duration: '10m' })).status).toBe(201);
    const other = await session(dana.token, 'gated', { duration: '10m' });
    expect(other.body.error.code).toBe('GATEHOUSE_ERR_POLICY_DENIED');
    expect(other.body.error.message).toMatch(/gated.*orders.*policy/);

    // Leaving the group takes the access away.
    await as(admin, 'DELETE', `/api/v1/groups/${group.group.id}/members/${eve.id}`);
    expect((await session(eve.token, 'ro', { duration: '10m' })).body.error.code).toBe('GATEHOUSE_ERR_POLICY_DENIED');
    await as(admin, 'DELETE', `/api/v1/policies/${policy.policy.id}`);
    expect((await session(dana.token, 'ro', { duration: '10m' })).body.error.code).toBe('GATEHOUSE_ERR_POLICY_DENIED');
    expect((await auditRows('policy.create')).length).toBeGreaterThan(0);
    expect((await auditRows('group.member.add')).length).toBeGreaterThan(0);
  });
});

describe('access requests', () => {
  let frank: { id: string; token: string };
  let gina: { id: string; token: string };
  let hank: { id: string; token: string };

  beforeAll(async () => {
    frank = await user('frank@example.com');
    gina = await user('gina@example.com');
    hank = await user('hank@example.com');
    const approvers = await as(admin, 'POST', `/api/v1/projects/${t.projectId}/groups`, { name: 'approvers' });
    await as(admin, 'POST', `/api/v1/groups/${approvers.group.id}/members`, { userId: hank.id });
    await as(admin, 'POST', `/api/v1/groups/${approvers.group.id}/members`, { userId: frank.id });
    await as(admin, 'POST', `/api/v1/projects/${t.projectId}/policies`, {
      name: 'gated-access',
      users: [frank.id, gina.id],
      accounts: [gatedId],
      maxDurationSeconds: 4 * 3600,
    });
    const patched = await as(admin, 'PATCH', `/api/v1/accounts/${gatedId}`, {
      requireApproval: { approverUsers: [gina.id], approverGroups: [approvers.group.id], requiredApprovals: 2 },
    });
    expect(patched.account.requireApproval).toEqual({ approverUsers: [gina.id], approverGroups: [approvers.group.id], requiredApprovals: 2 });
  });

  it('files, collects the required approvals (never the requester), and opens a window for sessions', async () => {
    const listed = await as(frank.token, 'GET', `/api/v1/projects/${t.projectId}/accounts`);
    expect(listed.accounts.find((a: { id: string }) => a.id === gatedId)).toMatchObject({ requireApproval: true, maxDurationSeconds: 4 * 3600 });

    const without = await session(frank.token, 'gated', { duration: '10m' });
    expect(without.status).toBe(403);
    expect(without.body).toMatchObject({ error: { code: 'GATEHOUSE_ERR_APPROVAL_REQUIRED' }, approval: { requiredApprovals: 2 } });

    const filed = await call(t.url, 'POST', '/api/v1/access-requests', {
      token: frank.token,
      body: { projectId: t.projectId, resource: 'orders', account: 'gated', duration: '20m', reason: 'INC-7 hotfix' },
    });
    expect(filed.status).toBe(201);
    const id: string = filed.body.request.id;
    expect(filed.body.request).toMatchObject({
      status: 'pending',
      userEmail: 'frank@example.com',
      account: { id: gatedId, name: 'gated' },
      durationSeconds: 1200,
      reason: 'INC-7 hotfix',
      requiredApprovals: 2,
      approvals: [],
    });

    const pending = await session(frank.token, 'gated', { duration: '10m', accessRequestId: id });
    expect(pending.body).toMatchObject({ error: { code: 'GATEHOUSE_ERR_APPROVAL_REQUIRED' }, approval: { status: 'pending' } });

    // Frank is in the approvers group, but it is his own request.
    const self = await call(t.url, 'POST', `/api/v1/access-requests/${id}/approve`, { token: frank.token, body: {} });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('GATEHOUSE_ERR_SELF_APPROVAL');
    const outsider = await user('ivy@example.com');
    expect((await call(t.url, 'POST', `/api/v1/access-requests/${id}/approve`, { token: outsider.token, body: {} })).status).toBe(404);

    // Approvers see it in their list.
    const queue = await as(hank.token, 'GET', `/api/v1/access-requests?status=pending&projectId=${t.projectId}`);
    expect(queue.requests.map((r: { id: string }) => r.id)).toContain(id);
    expect((await as(hank.token, 'GET', '/api/v1/access-requests?mine=true')).requests).toEqual([]);

    const one = await as(hank.token, 'POST', `/api/v1/access-requests/${id}/approve`, { comment: 'ok' });
    expect(one.request).toMatchObject({
      status: 'pending',
      approvals: [expect.objectContaining({ userId: hank.id, email: 'hank@example.com', decision: 'approve', comment: 'ok' })],
    });
    expect((await call(t.url, 'POST', `/api/v1/access-requests/${id}/approve`, { token: hank.token, body: {} })).status).toBe(409);
    const two = await as(gina.token, 'POST', `/api/v1/access-requests/${id}/approve`, {});
    expect(two.request.status).toBe('approved');
    const windowEnd = Date.parse(two.request.windowEndsAt);
    expect(windowEnd - Date.parse(two.request.approvedAt)).toBe(1200_000);

    // Deciding again is refused; the window serves sessions, capped at its end.
    expect((await call(t.url, 'POST', `/api/v1/access-requests/${id}/deny`, { token: admin, body: {} })).body.error.code).toBe(
      'GATEHOUSE_ERR_REQUEST_NOT_PENDING',
    );
    const opened = await session(frank.token, 'gated', { duration: '1h', accessRequestId: id });
    expect(opened.status).toBe(201);
    expect(Date.parse(opened.body.session.expiresAt)).toBeLessThanOrEqual(windowEnd);
    // Another user cannot borrow Frank's approval.
    expect((await session(gina.token, 'gated', { duration: '10m', accessRequestId: id })).status).toBe(404);

    const decisions = [...(await auditRows('access_request.create')), ...(await auditRows('access_request.approve'))];
    expect(decisions.map((r) => r.action)).toEqual(['access_request.create', 'access_request.approve', 'access_request.approve']);
    expect(decisions.every((r) => r.source_address !== null)).toBe(true);
  });

  it('a denied request cannot be used; pending requests expire after 24 h', async () => {
    const file = () =>
      as(gina.token, 'POST', '/api/v1/access-requests', {
        projectId: t.projectId,
        resource: 'orders',
        account: 'gated',
        duration: '15m',
        reason: 'look around',
      });
    const denied = (await file()).request.id;
    const res = await as(hank.token, 'POST', `/api/v1/access-requests/${denied}/deny`, { comment: 'not today' });
    expect(res.request).toMatchObject({ status: 'denied', approvals: [expect.objectContaining({ decision: 'deny', comment: 'not today' })] });
    const use = await session(gina.token, 'gated', { duration: '10m', accessRequestId: denied });
    expect(use.body).toMatchObject({ error: { code: 'GATEHOUSE_ERR_APPROVAL_REQUIRED' }, approval: { status: 'denied' } });
    expect(use.body.error.message).toContain('denied');
    expect((await call(t.url, 'POST', `/api/v1/access-requests/${denied}/approve`, { token: admin, body: {} })).body.error.code).toBe(
      'GATEHOUSE_ERR_REQUEST_NOT_PENDING',
    );

    const stale = (await file()).request.id;
    await sql`update access_requests set created_at = now() - interval '25 hours' where id = ${stale}`.execute(t.plane.store.db);
    await t.plane.expiry.runOnce();
    expect((await as(gina.token, 'GET', `/api/v1/access-requests/${stale}`)).request.status).toBe('expired');
    expect((await call(t.url, 'POST', `/api/v1/access-requests/${stale}/approve`, { token: hank.token, body: {} })).body.error.code).toBe(
      'GATEHOUSE_ERR_REQUEST_NOT_PENDING',
    );
    expect((await session(gina.token, 'gated', { duration: '10m', accessRequestId: stale })).body.approval).toMatchObject({ status: 'expired' });
    expect((await auditRows('access_request.expire')).length).toBeGreaterThan(0);
  });

  it('a duration over the policy is refused when filing; accounts without approval are not requestable', async () => {
    const long = await call(t.url, 'POST', '/api/v1/access-requests', {
      token: gina.token,
      body: { projectId: t.projectId, resource: 'orders', account: 'gated', duration: '5h', reason: 'x' },
    });
    expect(long.body.error.code).toBe('GATEHOUSE_ERR_POLICY_DENIED');
    const plain = await call(t.url, 'POST', '/api/v1/access-requests', {
      token: admin,
      body: { projectId: t.projectId, resource: 'orders', account: 'ro', duration: '5m', reason: 'x' },
    });
    expect(plain.status).toBe(400);
  });
});
