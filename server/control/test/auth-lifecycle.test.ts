/**
 * Sign-in rules at every way in (issue 10 items 5, 6, 11, 12), through a real server:
 * enforced MFA for invitations, refreshes and existing tokens; refresh-token reuse and logout;
 * lockout counted atomically, floods aggregated in the audit, no lock an attacker can impose on
 * the real user; a disabled user's right password answered like a wrong one.
 */
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, call, login, startTestPlane, type TestPlane } from './helpers.ts';

let t: TestPlane;
let admin: string;
let adminTotp: string;
const PASSWORD = 'member password 1';
const from = (ip: string) => ({ 'x-forwarded-for': ip });

function totpCode(secret: string, offsetSteps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + offsetSteps * 30_000 });
}

async function createUser(email: string): Promise<string> {
  const res = await call(t.url, 'POST', '/api/v1/users', { token: admin, body: { email, password: PASSWORD } });
  expect(res.status).toBe(201);
  return res.body.user.id;
}

async function auditEvents(
  query: string,
): Promise<{ action: string; sourceAddress: string | null; actor: { email: string | null; userId: string | null }; details: Record<string, any> }[]> {
  const res = await call(t.url, 'GET', `/api/v1/audit?limit=1000&${query}`, { token: admin });
  expect(res.status).toBe(200);
  return res.body.events;
}

const signIn = (email: string, password: string, ip = '192.0.2.1') =>
  call(t.url, 'POST', '/api/v1/auth/login', { body: { email, password }, headers: from(ip) });

beforeAll(async () => {
  t = await startTestPlane({ loginMaxFailures: 5, loginMaxFailuresPerUser: 8, trustProxyHops: 1 });
  // The admin signs in with TOTP, so enforcing TOTP later does not end their own sign-in.
  const first = await login(t.url, ADMIN.email, ADMIN.password);
  const enroll = await call(t.url, 'POST', '/api/v1/me/mfa/totp/enroll', { token: first.accessToken });
  adminTotp = enroll.body.secret;
  expect((await call(t.url, 'POST', '/api/v1/me/mfa/totp/confirm', { token: first.accessToken, body: { code: totpCode(adminTotp) } })).status).toBe(200);
  const start = await call(t.url, 'POST', '/api/v1/auth/login', { body: ADMIN });
  const verified = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', {
    body: { mfaToken: start.body.mfaToken, method: 'totp', code: totpCode(adminTotp, 1) },
  });
  expect(verified.status).toBe(200);
  admin = verified.body.accessToken;
});
afterAll(async () => {
  await t?.close();
});

describe('issue 10 item 6: refresh-token reuse revokes the family; logout ends the access token', () => {
  it('a replayed, already-rotated refresh token ends every token of that sign-in, and is audited', async () => {
    const id = await createUser('reuse@example.com');
    const first = await login(t.url, 'reuse@example.com', PASSWORD);
    const rotated = await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(rotated.status).toBe(200);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: rotated.body.accessToken })).status).toBe(200);
    // An attacker (or a stale copy) presents the old token again.
    const replay = await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: expect.stringContaining('already used') });
    // The whole family is gone: the newest refresh token and the access tokens of this sign-in.
    expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } })).status).toBe(401);
    const me = await call(t.url, 'GET', '/api/v1/me', { token: rotated.body.accessToken });
    expect(me.status).toBe(401);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: first.accessToken })).status).toBe(401);
    const [event] = await auditEvents(`action=auth.refresh_reuse&actor=${id}`);
    expect(event).toMatchObject({ actor: { userId: id }, details: { familyRevoked: true } });
    // Another sign-in of the same user is its own family and still works.
    const other = await login(t.url, 'reuse@example.com', PASSWORD);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: other.accessToken })).status).toBe(200);
  });

  it("after logout the access token is refused on the next request, and so is the sign-in's refresh token", async () => {
    await createUser('logout@example.com');
    const kept = await login(t.url, 'logout@example.com', PASSWORD);
    const ended = await login(t.url, 'logout@example.com', PASSWORD);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: ended.accessToken })).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/v1/auth/logout', { token: ended.accessToken, body: {} })).status).toBe(200);
    const after = await call(t.url, 'GET', '/api/v1/me', { token: ended.accessToken });
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: expect.stringContaining('signed out') });
    expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: ended.refreshToken } })).status).toBe(401);
    // Logout ends only the sign-in it names.
    expect((await call(t.url, 'GET', '/api/v1/me', { token: kept.accessToken })).status).toBe(200);
    expect((await auditEvents('action=auth.logout&actor=logout@example.com')).length).toBe(1);
  });
});

describe('disabling a user ends their sign-ins', () => {
  it("re-enabled, the user's old access and refresh tokens stay refused; a new sign-in works", async () => {
    const id = await createUser('paused@example.com');
    const old = await login(t.url, 'paused@example.com', PASSWORD);
    expect((await call(t.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: true } })).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: old.refreshToken } })).body.error.code).toBe(
      'GATEHOUSE_ERR_USER_DISABLED',
    );
    expect((await call(t.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: false } })).status).toBe(200);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: old.accessToken })).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: old.refreshToken } })).status).toBe(401);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: (await login(t.url, 'paused@example.com', PASSWORD)).accessToken })).status).toBe(200);
  });
});

describe("issue 10 item 12: a disabled user's right password is answered like a wrong one", () => {
  it('same status, code and message as a wrong password or an unknown email, after the same work', async () => {
    const id = await createUser('gone@example.com');
    await createUser('present@example.com');
    expect((await call(t.url, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: true } })).status).toBe(200);
    const timed = async (email: string, password: string) => {
      const started = performance.now();
      const res = await signIn(email, password, '192.0.2.12');
      return { res, ms: performance.now() - started };
    };
    const disabled: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await timed('gone@example.com', PASSWORD);
      const b = await timed('present@example.com', 'not the password');
      const c = await timed('nobody@example.com', PASSWORD);
      expect(a.res.status).toBe(401);
      expect(a.res.body).toEqual(b.res.body);
      expect(a.res.body).toEqual(c.res.body);
      expect(a.res.body.error.code).toBe('GATEHOUSE_ERR_INVALID_CREDENTIALS');
      disabled.push(a.ms);
      wrong.push(b.ms);
    }
    // argon2 runs either way: no answer comes back in a fraction of the other's time.
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1];
    const ratio = median(disabled) / median(wrong);
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);
    // The audit (admins only) still says why.
    expect((await auditEvents('action=auth.login_failed&actor=gone@example.com')).every((e) => e.details.reason === 'user disabled')).toBe(true);
  });
});

describe('issue 10 item 11: lockout counted atomically, floods aggregated, no lock imposed on the real user', () => {
  it('20 parallel wrong attempts against a limit of 5: exactly 5 passwords are checked, 15 are refused 429', async () => {
    await createUser('target@example.com');
    const answers = await Promise.all(Array.from({ length: 20 }, () => signIn('target@example.com', 'guess guess', '198.51.100.20')));
    const codes = answers.map((a) => a.body.error.code);
    expect(codes.filter((c) => c === 'GATEHOUSE_ERR_INVALID_CREDENTIALS')).toHaveLength(5);
    expect(codes.filter((c) => c === 'GATEHOUSE_ERR_LOCKED_OUT')).toHaveLength(15);
    // Locked from that address, even with the right password; the real user elsewhere is not.
    expect((await signIn('target@example.com', PASSWORD, '198.51.100.20')).status).toBe(429);
    expect((await signIn('target@example.com', PASSWORD, '198.51.100.21')).status).toBe(200);
  });

  it('a flood from one address writes a handful of audit rows, not one per attempt', async () => {
    const source = '198.51.100.30';
    for (let batch = 0; batch < 7; batch++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(`sprayed-${batch}-${i % 3}@example.com`, 'guess guess', source)));
    }
    const rows = (await auditEvents('action=auth.*')).filter((e) => e.sourceAddress === source);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(20);
    const flood = rows.filter((e) => e.action === 'auth.login_flood');
    expect(flood.map((e) => e.details.attemptsFromSource)).toEqual(expect.arrayContaining([16, 32, 64]));
  });

  it('failures from many addresses slow every address to one attempt, but never lock the real user out of their own', async () => {
    await createUser('victim@example.com');
    // 9 addresses, one wrong guess each: past the per-email limit of 8.
    for (let i = 1; i <= 9; i++) expect((await signIn('victim@example.com', 'guess guess', `203.0.113.${i}`)).status).toBe(401);
    // An address that already guessed gets no second try this window ...
    expect((await signIn('victim@example.com', 'guess guess', '203.0.113.1')).status).toBe(429);
    // ... a new one gets exactly one ...
    expect((await signIn('victim@example.com', 'guess guess', '203.0.113.50')).status).toBe(401);
    expect((await signIn('victim@example.com', 'guess guess', '203.0.113.50')).status).toBe(429);
    // ... and the real user, with the password, still signs in from their own address.
    const real = await signIn('victim@example.com', PASSWORD, '192.0.2.77');
    expect(real.status).toBe(200);
    expect(typeof real.body.accessToken).toBe('string');
  });
});

describe('issue 10 item 5: enforced MFA applies at every way in', () => {
  it('invitation, refresh and existing tokens all need the enforced TOTP', async () => {
    await createUser('early@example.com');
    const early = await login(t.url, 'early@example.com', PASSWORD);
    const invite = await call(t.url, 'POST', '/api/v1/users/invitations', {
      token: admin,
      body: { email: 'invited@example.com', projectId: t.projectId, role: 'member' },
    });
    expect(invite.status).toBe(201);

    expect((await call(t.url, 'PATCH', '/api/v1/settings/mfa', { token: admin, body: { enforce: 'totp' } })).status).toBe(200);
    try {
      // The admin signed in with TOTP: still fine.
      expect((await call(t.url, 'GET', '/api/v1/me', { token: admin })).status).toBe(200);

      // Accepting an invitation answers an enrollment challenge, not tokens.
      const accepted = await call(t.url, 'POST', '/api/v1/auth/accept-invitation', { body: { code: invite.body.code, password: PASSWORD } });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({ mfaRequired: true, mfaEnrollmentRequired: true, mfaToken: expect.stringMatching(/^ghm\./), methods: ['totp'] });
      expect(accepted.body.accessToken).toBeUndefined();
      const enroll = await call(t.url, 'POST', '/api/v1/auth/mfa/totp/enroll', { body: { mfaToken: accepted.body.mfaToken } });
      const confirm = await call(t.url, 'POST', '/api/v1/auth/mfa/totp/confirm', {
        body: { mfaToken: accepted.body.mfaToken, code: totpCode(enroll.body.secret) },
      });
      expect(confirm.status).toBe(200);
      expect((await call(t.url, 'GET', '/api/v1/me', { token: confirm.body.accessToken })).body.user.email).toBe('invited@example.com');
      // Tokens from that TOTP sign-in refresh fine.
      expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: confirm.body.refreshToken } })).status).toBe(200);

      // Tokens from a password-only sign-in before the enforcement stop working.
      const me = await call(t.url, 'GET', '/api/v1/me', { token: early.accessToken });
      expect(me.status).toBe(401);
      expect(me.body.error).toMatchObject({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: expect.stringContaining('requires TOTP') });
      const refreshed = await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: early.refreshToken } });
      expect(refreshed.status).toBe(401);
      expect(refreshed.body.error.message).toContain('requires TOTP');
      expect((await auditEvents('action=auth.refresh_refused&actor=early@example.com'))[0]?.details).toMatchObject({ reason: 'mfa_enforced' });
      // Signing in again leads to enrollment.
      expect((await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'early@example.com', password: PASSWORD } })).body).toMatchObject({
        mfaEnrollmentRequired: true,
      });
    } finally {
      expect((await call(t.url, 'PATCH', '/api/v1/settings/mfa', { token: admin, body: { enforce: 'none' } })).status).toBe(200);
    }
  });
});
