/**
 * The control plane's edge, issue 10 items 10, 13, 14, 15 and 17: text the store cannot hold
 * is refused once at the edge, project admins cannot probe which emails have accounts,
 * invitation links come from the configured public URL, /metrics is not open to anyone, and a
 * gateway enrollment token survives a key the CA refuses.
 */
import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { createMfaRepo } from '../store/mfa.ts';
import { ADMIN, call, createMember, login, startTestPlane, type TestPlane } from './helpers.ts';
import { rawExchange, rawRequest } from './raw-http.ts';

const PUBLIC_URL = 'https://gatehouse.example.com/gh';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

let plain: TestPlane; // defaults
let configured: TestPlane; // --public-url and --metrics-token
let admin: string;

beforeAll(async () => {
  [plain, configured] = await Promise.all([startTestPlane(), startTestPlane({ publicUrl: `${PUBLIC_URL}/`, metricsToken: METRICS_TOKEN })]);
  admin = (await login(plain.url, ADMIN.email, ADMIN.password)).accessToken;
});
afterAll(async () => {
  await Promise.all([plain?.close(), configured?.close()]);
});

describe('issue 10 item 10: a NUL byte in a path, query or body field is 400 INVALID_INPUT, not 500', () => {
  it('refuses NUL in path ids, query values and body text on every kind of route, and keeps serving', async () => {
    const { projectId } = plain;
    const cases: { method: string; path: string; body?: unknown; field?: string }[] = [
      { method: 'GET', path: '/api/v1/access-requests/%00', field: 'path' },
      { method: 'GET', path: '/api/v1/resources/%00', field: 'path' },
      { method: 'GET', path: '/api/v1/projects/%00/resources', field: 'path' },
      { method: 'POST', path: '/api/v1/sessions/%00/end', field: 'path' },
      { method: 'DELETE', path: '/api/v1/users/ab%00cd', field: 'path' },
      { method: 'GET', path: `/api/v1/sessions?projectId=${projectId}%00`, field: 'projectId' },
      { method: 'GET', path: '/api/v1/audit?actor=a%00b', field: 'actor' },
      { method: 'POST', path: '/api/v1/users', body: { email: 'nul@example.com', name: 'a\u0000b', password: 'long enough pw' }, field: 'name' },
      { method: 'POST', path: '/api/v1/users/invitations', body: { email: 'nul2@example.com', name: 'x\u0000' }, field: 'name' },
      { method: 'POST', path: `/api/v1/projects/${projectId}/groups`, body: { name: 'ok', extra: ['\u0000'] }, field: 'extra.0' },
    ];
    for (const c of cases) {
      const res = await call(plain.url, c.method, c.path, { token: admin, body: c.body });
      expect({ path: c.path, status: res.status, code: res.body?.error?.code, field: res.body?.error?.field }).toEqual({
        path: c.path,
        status: 400,
        code: 'GATEHOUSE_ERR_INVALID_INPUT',
        field: c.field,
      });
    }
    // A login body with NUL is refused before any lookup too (no token needed to reach the edge).
    const login = await call(plain.url, 'POST', '/api/v1/auth/login', { body: { email: 'a\u0000@example.com', password: 'x' } });
    expect(login.status).toBe(400);
    expect((await call(plain.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('issue 10 item 13: adding a member by email does not tell a project admin whether the email has an account', () => {
  it('answers a project admin the same for a known and an unknown email; instance admins still add by email', async () => {
    const projectAdmin = await createMember(plain, admin, 'padmin@example.com', 'admin');
    await call(plain.url, 'POST', '/api/v1/users', { token: admin, body: { email: 'existing@example.com', password: 'long enough pw' } });
    const known = await call(plain.url, 'POST', `/api/v1/projects/${plain.projectId}/members`, {
      token: projectAdmin.token,
      body: { email: 'existing@example.com', role: 'member' },
    });
    const unknown = await call(plain.url, 'POST', `/api/v1/projects/${plain.projectId}/members`, {
      token: projectAdmin.token,
      body: { email: 'nobody@example.com', role: 'member' },
    });
    expect(known.status).toBe(403);
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);
    expect(known.body.error.code).toBe('GATEHOUSE_ERR_FORBIDDEN');
    const members = await call(plain.url, 'GET', `/api/v1/projects/${plain.projectId}/members`, { token: projectAdmin.token });
    expect(members.body.members.map((m: { email: string }) => m.email)).not.toContain('existing@example.com');
    // An instance admin sees every account anyway and may add by email.
    const byAdmin = await call(plain.url, 'POST', `/api/v1/projects/${plain.projectId}/members`, {
      token: admin,
      body: { email: 'existing@example.com', role: 'member' },
    });
    expect(byAdmin.status).toBe(200);
  });
});

describe('issue 10 item 13: invitations do not tell a project admin whether the email has an account', () => {
  const PW = 'existing password 1';
  let projectAdmin: { id: string; token: string };

  beforeAll(async () => {
    projectAdmin = await createMember(plain, admin, 'padmin-inv@example.com', 'admin');
  });

  async function account(email: string): Promise<string> {
    const res = await call(plain.url, 'POST', '/api/v1/users', { token: admin, body: { email, password: PW } });
    expect(res.status).toBe(201);
    return res.body.user.id;
  }

  async function invite(email: string, token = projectAdmin.token, role = 'member') {
    return call(plain.url, 'POST', '/api/v1/users/invitations', { token, body: { email, projectId: plain.projectId, role } });
  }

  const passwordHash = async (id: string) =>
    (await sql<{ password_hash: string }>`select password_hash from users where id = ${id}`.execute(plain.plane.store.db)).rows[0].password_hash;
  const roleOf = (userId: string) => plain.plane.store.projects.roleOf(plain.projectId, userId);

  /** The answer with what must differ (ids, codes, the echoed email, the expiry instant) masked. */
  function masked(body: unknown, email: string): unknown {
    return JSON.parse(
      JSON.stringify(body)
        .replaceAll(email, '<email>')
        .replace(/ghi_[A-Za-z0-9_-]+/g, '<code>')
        .replace(/%[0-9A-F]{2}/g, '')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>'),
    );
  }

  it("answers a project admin's invitation the same for a known and an unknown email", async () => {
    await account('known-inv@example.com');
    const known = await invite('known-inv@example.com');
    const unknown = await invite('unknown-inv@example.com');
    expect(known.status).toBe(201);
    expect(unknown.status).toBe(known.status);
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(known.body).sort());
    expect(Object.keys(unknown.body.invitation).sort()).toEqual(Object.keys(known.body.invitation).sort());
    expect(masked(unknown.body, 'unknown-inv@example.com')).toEqual(masked(known.body, 'known-inv@example.com'));
    expect(masked(known.body, 'known-inv@example.com')).toMatchObject({ invitation: { email: '<email>', role: 'member' }, code: '<code>' });
  });

  it('accepting with the existing account password joins the project with the invited role and keeps the password', async () => {
    const id = await account('joiner@example.com');
    const before = await passwordHash(id);
    const { code } = (await invite('joiner@example.com', projectAdmin.token, 'auditor')).body;
    // Only the code's holder learns that the email has an account (the console words its page from this).
    const preview = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation/preview', { body: { code } });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ existingAccount: true, invitation: { email: 'joiner@example.com', projectName: 'default', role: 'auditor' } });
    expect(await roleOf(id)).toBeUndefined();

    const accepted = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: PW, name: 'Renamed?' } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.user).toMatchObject({ id, email: 'joiner@example.com' });
    expect(typeof accepted.body.accessToken).toBe('string');
    expect(await roleOf(id)).toBe('auditor');
    expect(await passwordHash(id)).toBe(before);
    expect((await login(plain.url, 'joiner@example.com', PW)).accessToken).toBeTruthy();
    const audit = await sql<{
      details: Record<string, unknown>;
    }>`select details from audit_events where action = 'user.invitation_accept' and target_id = ${id}`.execute(plain.plane.store.db);
    expect(audit.rows.map((r) => r.details)).toEqual([expect.objectContaining({ existingAccount: true, role: 'auditor', projectId: plain.projectId })]);
    // The invitation is used up.
    const again = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: PW } });
    expect(again.body.error.code).toBe('GATEHOUSE_ERR_INVITATION_INVALID');
  });

  it('the cookie route joins an existing account the same way', async () => {
    const id = await account('cookie-joiner@example.com');
    const { code } = (await invite('cookie-joiner@example.com')).body;
    const wrong = await call(plain.url, 'POST', '/api/v1/auth/cookie/accept-invitation', { body: { code, password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(await roleOf(id)).toBeUndefined();
    const accepted = await call(plain.url, 'POST', '/api/v1/auth/cookie/accept-invitation', { body: { code, password: PW } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.refreshToken).toBeUndefined();
    expect(typeof accepted.body.csrfToken).toBe('string');
    expect(await roleOf(id)).toBe('member');
  });

  it('a wrong password is refused like a wrong sign-in (counted by the lockout) and adds no membership', async () => {
    const id = await account('guessed@example.com');
    const before = await passwordHash(id);
    const { code } = (await invite('guessed@example.com')).body;
    for (let i = 0; i < 5; i++) {
      const wrong = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: `a new password ${i}` } });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('GATEHOUSE_ERR_INVALID_CREDENTIALS');
      expect(wrong.body.error.message).toMatch(/wrong password: .* already has a Gatehouse account; enter its password/);
    }
    expect(await roleOf(id)).toBeUndefined();
    expect(await passwordHash(id)).toBe(before);
    const failed = await sql<{
      n: string;
    }>`select count(*) as n from audit_events where action = 'auth.login_failed' and actor_email = 'guessed@example.com'`.execute(plain.plane.store.db);
    expect(Number(failed.rows[0].n)).toBe(5);
    // The same lockout as /auth/login: even the right password waits now, on either route.
    const locked = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: PW } });
    expect(locked.body.error.code).toBe('GATEHOUSE_ERR_LOCKED_OUT');
    expect((await call(plain.url, 'POST', '/api/v1/auth/login', { body: { email: 'guessed@example.com', password: PW } })).body.error.code).toBe(
      'GATEHOUSE_ERR_LOCKED_OUT',
    );
    expect(await roleOf(id)).toBeUndefined();
  });

  it('enforced MFA still applies when an existing account joins (the afterPassword path)', async () => {
    const id = await account('mfa-joiner@example.com');
    const { code } = (await invite('mfa-joiner@example.com')).body;
    // Set in the store: while TOTP is enforced, the admins' tokens (without TOTP) are refused.
    const mfaRepo = createMfaRepo(plain.plane.store.db);
    await mfaRepo.setEnforcement('totp');
    try {
      const accepted = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: PW } });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({ mfaRequired: true, mfaEnrollmentRequired: true, methods: ['totp'] });
      expect(accepted.body.accessToken).toBeUndefined();
      expect(await roleOf(id)).toBe('member');
    } finally {
      await mfaRepo.setEnforcement('none');
    }
  });

  it('a new email still sets its password on accept, and the audit says it was no existing account', async () => {
    const { code } = (await invite('brand-new@example.com')).body;
    const preview = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation/preview', { body: { code } });
    expect(preview.body.existingAccount).toBe(false);
    const accepted = await call(plain.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code, password: 'brand new password' } });
    expect(accepted.status).toBe(200);
    expect(await roleOf(accepted.body.user.id)).toBe('member');
    const audit = await sql<{
      details: Record<string, unknown>;
    }>`select details from audit_events where action = 'user.invitation_accept' and target_id = ${accepted.body.user.id}`.execute(plain.plane.store.db);
    expect(audit.rows[0].details).toMatchObject({ existingAccount: false });
  });

  it('an instance admin (who lists every user anyway) still gets 409 for a known email, pointing at adding the member', async () => {
    const res = await invite(ADMIN.email, admin);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/projects\/<id>\/members/);
  });
});

describe('issue 10 item 14: invitation links are built from the configured public URL, not the Host header', () => {
  it('uses --public-url whatever Host the request names', async () => {
    const token = (await login(configured.url, ADMIN.email, ADMIN.password)).accessToken;
    const res = await call(configured.url, 'POST', '/api/v1/users/invitations', {
      token,
      body: { email: 'hire@example.com' },
      headers: { host: 'evil.example:1' },
    });
    expect(res.status).toBe(201);
    expect(res.body.url).toBe(`${PUBLIC_URL}/accept-invitation#code=${encodeURIComponent(res.body.code)}`);
  });

  it('defaults to the listening address', async () => {
    const res = await call(plain.url, 'POST', '/api/v1/users/invitations', {
      token: admin,
      body: { email: 'hire2@example.com' },
      headers: { host: 'evil.example:1' },
    });
    expect(res.status).toBe(201);
    expect(res.body.url.startsWith(`${plain.url}/accept-invitation#code=`)).toBe(true);
    expect(plain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('issue 10 item 15: /metrics is not open to anyone', () => {
  it('is off (404) by default', async () => {
    for (const path of ['/metrics', '/api/v1/metrics']) {
      const res = await call(plain.url, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('gatehouse_');
      expect((await call(plain.url, 'GET', path, { token: admin })).status).toBe(404);
    }
  });

  it('with --metrics-token, serves only that bearer token', async () => {
    expect((await call(configured.url, 'GET', '/metrics')).status).toBe(401);
    expect((await call(configured.url, 'GET', '/metrics', { token: `${METRICS_TOKEN}x` })).status).toBe(401);
    const userToken = (await login(configured.url, ADMIN.email, ADMIN.password)).accessToken;
    expect((await call(configured.url, 'GET', '/metrics', { token: userToken })).status).toBe(401);
    const res = await call(configured.url, 'GET', '/metrics', { token: METRICS_TOKEN });
    expect(res.status).toBe(200);
    expect(res.text).toContain('gatehouse_http_requests_total');
    expect(res.text).toContain('gatehouse_sessions_active');
    expect(res.text).toContain('gatehouse_gateways_connected');
  });
});

describe('issue 10 item 17: an enrollment token is not spent on a public key the CA refuses', () => {
  it('refuses an RSA key with 400 and enrolls with the same token afterwards', async () => {
    const created = await call(plain.url, 'POST', '/api/v1/gateways', { token: admin, body: { name: 'gw-badkey', projectId: plain.projectId } });
    const token: string = created.body.enrollmentToken;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const bad = await call(plain.url, 'POST', '/api/v1/gateways/enroll', { body: { token, publicKeyPem: rsa } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('GATEHOUSE_ERR_INVALID_INPUT');
    // The service itself checks the key before spending the token (not only the HTTP schema).
    await expect(plain.plane.services.gateways.enroll(token, rsa)).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_INVALID_INPUT' });
    const good = await call(plain.url, 'POST', '/api/v1/gateways/enroll', { body: { token, publicKeyPem: generateKeyPair().publicKeyPem } });
    expect(good.status).toBe(200);
    expect(good.body.gatewayId).toBe(created.body.gateway.id);
    const again = await call(plain.url, 'POST', '/api/v1/gateways/enroll', { body: { token, publicKeyPem: generateKeyPair().publicKeyPem } });
    expect(again.status).toBe(401);
  });
});

describe('issue 16: a failure on the WebSocket upgrade path is answered, never fatal', () => {
  const upgrade = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };

  it('answers 500 when the relay throws or rejects, 400 for a path it cannot parse, and keeps serving', async () => {
    const relay = plain.plane.relay;
    // Fault injection: the relay's upgrade handlers fail the two ways a bug could make them.
    const tunnel = vi.spyOn(relay, 'handleSessionTunnel').mockImplementation(() => {
      throw new TypeError('a bug in the tunnel upgrade');
    });
    const link = vi.spyOn(relay, 'handleGatewayLink').mockImplementation(() => Promise.reject(new Error('a bug in the link upgrade')));
    try {
      for (const path of ['/api/v1/sessions/abc/tunnel', '/api/v1/gateways/link']) {
        const outcome = await rawExchange(Number(new URL(plain.url).port), rawRequest('GET', path, upgrade));
        expect(outcome.kind === 'answered' && { status: outcome.status, body: JSON.parse(outcome.body) }).toEqual({
          status: 500,
          body: { error: { code: 'GATEHOUSE_ERR_INTERNAL', message: 'internal error' } },
        });
      }
    } finally {
      tunnel.mockRestore();
      link.mockRestore();
    }
    const bad = await rawExchange(Number(new URL(plain.url).port), rawRequest('GET', '/api/v1/sessions/%zz/tunnel', upgrade));
    expect(bad.kind === 'answered' && bad.status).toBe(400);
    expect((await call(plain.url, 'GET', '/healthz')).status).toBe(200);
  });
});
