/**
 * MFA end to end through a real server: TOTP enrollment and sign-in (codes made with otpauth),
 * replay refused, recovery codes once, email codes through a real SMTP server on loopback,
 * Require MFA for Access on POST /sessions, lockouts (with their audit events) and the
 * organization enforcing TOTP.
 */
import type { AddressInfo } from 'node:net';
import { Secret, TOTP } from 'otpauth';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { ADMIN, call, connectGateway, createMember, login, startTestPlane, waitFor, type TestGateway, type TestPlane } from './helpers.ts';

interface Mail {
  to: string;
  body: string;
}

const mails: Mail[] = [];
let smtp: SMTPServer;
let t: TestPlane;
let admin: string;

function startSmtp(): Promise<number> {
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === 'mail-pass') return cb(null, { user: 'mailer' });
      cb(new Error('bad smtp credentials'));
    },
    onData(stream, session, cb) {
      let body = '';
      stream.on('data', (d: Buffer) => (body += d.toString('utf8')));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), body });
        cb();
      });
    },
  });
  return new Promise((resolve) => smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as AddressInfo).port)));
}

/** The code in the newest mail to `to` (waits for it). */
async function mailedCode(to: string, after: number): Promise<string> {
  await waitFor(() => mails.slice(after).some((m) => m.to === to));
  const mail = mails
    .slice(after)
    .reverse()
    .find((m) => m.to === to)!;
  const match = /code is (\d{6})/.exec(mail.body);
  if (!match) throw new Error(`no code in mail: ${mail.body}`);
  return match[1];
}

function totpCode(secret: string, offsetSteps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + offsetSteps * 30_000 });
}

/** Enrolls TOTP for a signed-in user; returns the secret and recovery codes (the current step is used). */
async function enrollTotp(token: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enroll = await call(t.url, 'POST', '/api/v1/me/mfa/totp/enroll', { token });
  expect(enroll.status).toBe(200);
  const confirm = await call(t.url, 'POST', '/api/v1/me/mfa/totp/confirm', { token, body: { code: totpCode(enroll.body.secret) } });
  expect(confirm.status).toBe(200);
  return { secret: enroll.body.secret, recoveryCodes: confirm.body.recoveryCodes };
}

async function auditEvents(
  query: string,
): Promise<{ action: string; sourceAddress: string | null; actor: { email: string | null }; details: Record<string, unknown> }[]> {
  const res = await call(t.url, 'GET', `/api/v1/audit?limit=1000&${query}`, { token: admin });
  expect(res.status).toBe(200);
  return res.body.events;
}

const PASSWORD = 'member password 1';
const from = (ip: string) => ({ 'x-forwarded-for': `10.9.9.9, ${ip}` });

beforeAll(async () => {
  const port = await startSmtp();
  t = await startTestPlane({
    smtpUrl: `smtp://mailer:mail-pass@127.0.0.1:${port}`,
    smtpFrom: 'Gatehouse <gatehouse@example.com>',
    loginMaxFailures: 3,
    mfaMaxFailures: 3,
    trustProxyHops: 1,
  });
  admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
});
afterAll(async () => {
  await t?.close();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

describe('TOTP', () => {
  let alice: { id: string; token: string };
  let secret: string;
  let recoveryCodes: string[];

  beforeAll(async () => {
    alice = await createMember(t, admin, 'alice@example.com', 'member');
  });

  it('enrolls with a secret, an otpauth URL and a QR code; a wrong confirmation code is refused', async () => {
    const enroll = await call(t.url, 'POST', '/api/v1/me/mfa/totp/enroll', { token: alice.token });
    expect(enroll.status).toBe(200);
    expect(enroll.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enroll.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\/Gatehouse:alice%40example\.com\?/);
    expect(enroll.body.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    secret = enroll.body.secret;
    const wrong = await call(t.url, 'POST', '/api/v1/me/mfa/totp/confirm', { token: alice.token, body: { code: totpCode(secret, 5) } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('GATEHOUSE_ERR_MFA_INVALID');
    const confirm = await call(t.url, 'POST', '/api/v1/me/mfa/totp/confirm', { token: alice.token, body: { code: totpCode(secret) } });
    expect(confirm.status).toBe(200);
    recoveryCodes = confirm.body.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const status = await call(t.url, 'GET', '/api/v1/me/mfa', { token: alice.token });
    expect(status.body).toMatchObject({ totp: true, recoveryCodesLeft: 10, enforce: 'none', emailAvailable: true });
    // The secret is sealed at rest, never stored in clear.
    const row = await t.plane.store.db.selectFrom('user_mfa').selectAll().where('user_id', '=', alice.id).executeTakeFirstOrThrow();
    expect(row.totp_secret_sealed).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('signs in with password then a TOTP code; the same code is refused the second time', async () => {
    const first = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ mfaRequired: true, mfaToken: expect.stringMatching(/^ghm\./), methods: ['totp', 'recovery', 'email'] });
    expect(first.body.accessToken).toBeUndefined();
    // The MFA token is not an access token.
    expect((await call(t.url, 'GET', '/api/v1/me', { token: first.body.mfaToken })).status).toBe(401);

    const code = totpCode(secret, 1);
    const verified = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: first.body.mfaToken, method: 'totp', code } });
    expect(verified.status).toBe(200);
    expect(verified.body.user.email).toBe('alice@example.com');
    expect((await call(t.url, 'GET', '/api/v1/me', { token: verified.body.accessToken })).status).toBe(200);

    const again = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    const replay = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: again.body.mfaToken, method: 'totp', code } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('GATEHOUSE_ERR_MFA_INVALID');
    expect(replay.body.error.message).toMatch(/already used/);
    const forged = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', {
      body: { mfaToken: `${again.body.mfaToken.slice(0, -2)}xx`, method: 'totp', code: totpCode(secret) },
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('GATEHOUSE_ERR_UNAUTHENTICATED');
  });

  it('accepts a recovery code once', async () => {
    const start = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    const used = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', {
      body: { mfaToken: start.body.mfaToken, method: 'recovery', code: recoveryCodes[0].toUpperCase() },
    });
    expect(used.status).toBe(200);
    expect(typeof used.body.accessToken).toBe('string');
    const fresh = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    const reused = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', {
      body: { mfaToken: fresh.body.mfaToken, method: 'recovery', code: recoveryCodes[0] },
    });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe('GATEHOUSE_ERR_MFA_INVALID');
    expect((await call(t.url, 'GET', '/api/v1/me/mfa', { token: used.body.accessToken })).body.recoveryCodesLeft).toBe(9);
  });

  it('an mfaToken completes one sign-in: after that it is refused before any code is spent', async () => {
    const start = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    const first = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: start.body.mfaToken, method: 'recovery', code: recoveryCodes[1] } });
    expect(first.status).toBe(200);
    const again = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: start.body.mfaToken, method: 'recovery', code: recoveryCodes[2] } });
    expect(again.status).toBe(401);
    expect(again.body.error).toMatchObject({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: expect.stringContaining('already completed') });
    expect((await call(t.url, 'POST', '/api/v1/auth/mfa/email/send', { body: { mfaToken: start.body.mfaToken } })).status).toBe(401);
    expect((await call(t.url, 'GET', '/api/v1/me/mfa', { token: first.body.accessToken })).body.recoveryCodesLeft).toBe(8);
  });

  it('falls back to an email code sent through the SMTP server; the code works once', async () => {
    const start = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    const before = mails.length;
    const sent = await call(t.url, 'POST', '/api/v1/auth/mfa/email/send', { body: { mfaToken: start.body.mfaToken } });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ sentTo: 'a***@example.com', expiresAt: expect.any(String) });
    const code = await mailedCode('alice@example.com', before);
    expect(mails.at(-1)!.body).toContain('From: Gatehouse <gatehouse@example.com>');
    const wrong = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', {
      body: { mfaToken: start.body.mfaToken, method: 'email', code: code === '000000' ? '111111' : '000000' },
    });
    expect(wrong.status).toBe(401);
    const ok = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: start.body.mfaToken, method: 'email', code } });
    expect(ok.status).toBe(200);
    const fresh = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    const twice = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: fresh.body.mfaToken, method: 'email', code } });
    expect(twice.status).toBe(401);
    expect(twice.body.error.code).toBe('GATEHOUSE_ERR_MFA_INVALID');
  });

  it('locks MFA after the configured number of wrong codes, even for a right one, and audits it', async () => {
    const start = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    // The replayed email code above is failure 1 (successes reset the count); two more reach the limit of 3.
    for (let i = 0; i < 2; i++) {
      const wrong = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: start.body.mfaToken, method: 'totp', code: '000000' } });
      expect(wrong.status).toBe(401);
    }
    const locked = await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: start.body.mfaToken, method: 'totp', code: totpCode(secret) } });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('GATEHOUSE_ERR_LOCKED_OUT');
    expect(locked.body.retryAfterSeconds).toBeGreaterThan(800);
    const events = await auditEvents(`actor=${alice.id}&action=auth.lockout`);
    expect(events.at(-1)?.details).toMatchObject({ scope: 'mfa' });
    expect((await auditEvents(`actor=${alice.id}&action=mfa.locked_out`)).length).toBe(1);
    const verifications = (await auditEvents(`actor=${alice.id}&action=mfa.*`)).map((e) => e.action);
    expect(verifications).toEqual(
      expect.arrayContaining(['mfa.totp_enroll_started', 'mfa.totp_enrolled', 'mfa.verify', 'mfa.recovery_used', 'mfa.email_sent', 'mfa.verify_failed']),
    );
  });

  it('an admin resets a member who lost their phone: the next sign-in needs no code, it is audited, and nobody resets their own', async () => {
    const adminId = (await call(t.url, 'GET', '/api/v1/me', { token: admin })).body.user.id as string;
    const self = await call(t.url, 'DELETE', `/api/v1/users/${adminId}/mfa`, { token: admin });
    expect(self.status).toBe(403);
    expect(self.body.error.message).toContain('ask another admin');
    const byMember = await call(t.url, 'DELETE', `/api/v1/users/${alice.id}/mfa`, { token: alice.token });
    expect(byMember.status).toBe(403);
    const reset = await call(t.url, 'DELETE', `/api/v1/users/${alice.id}/mfa`, { token: admin });
    expect(reset.status).toBe(200);
    const signIn = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'alice@example.com', password: PASSWORD } });
    expect(signIn.status).toBe(200);
    expect(typeof signIn.body.accessToken).toBe('string');
    expect((await call(t.url, 'GET', '/api/v1/me/mfa', { token: signIn.body.accessToken })).body).toMatchObject({ totp: false, recoveryCodesLeft: 0 });
    expect((await auditEvents(`action=user.mfa_reset`)).at(-1)).toMatchObject({ actor: { email: ADMIN.email }, details: { email: 'alice@example.com' } });
    expect((await call(t.url, 'DELETE', '/api/v1/users/no-such-user/mfa', { token: admin })).status).toBe(404);
  });
});

describe('sign-in lockout', () => {
  it('locks an email+address after the configured failures (429 with retryAfterSeconds), audits each, and a success elsewhere resets', async () => {
    await createMember(t, admin, 'carol@example.com', 'member');
    for (let i = 0; i < 3; i++) {
      const wrong = await call(t.url, 'POST', '/api/v1/auth/login', {
        body: { email: 'carol@example.com', password: 'not it at all' },
        headers: from('198.51.100.7'),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('GATEHOUSE_ERR_INVALID_CREDENTIALS');
    }
    const locked = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'carol@example.com', password: PASSWORD }, headers: from('198.51.100.7') });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('GATEHOUSE_ERR_LOCKED_OUT');
    expect(locked.body.retryAfterSeconds).toBeGreaterThan(14 * 60);
    // Another address is not locked out (per email + source address).
    const elsewhere = await call(t.url, 'POST', '/api/v1/auth/login', {
      body: { email: 'carol@example.com', password: PASSWORD },
      headers: from('198.51.100.8'),
    });
    expect(elsewhere.status).toBe(200);

    const failures = await auditEvents('actor=carol@example.com&action=auth.login_failed');
    expect(failures).toHaveLength(3);
    // X-Forwarded-For is honored (one trusted hop: the rightmost entry).
    expect(failures.every((e) => e.sourceAddress === '198.51.100.7')).toBe(true);
    expect(await auditEvents('actor=carol@example.com&action=auth.lockout')).toHaveLength(1);
    expect(await auditEvents('actor=carol@example.com&action=auth.login_locked_out')).toHaveLength(1);
    expect((await auditEvents('actor=carol@example.com&action=auth.login')).at(-1)?.sourceAddress).toBe('198.51.100.8');
  });
});

describe('Require MFA for Access', () => {
  let gateway: TestGateway;
  let bob: { id: string; token: string };
  const session = (extra: Record<string, unknown> = {}) => ({
    projectId: t.projectId,
    resource: 'vault',
    account: 'guarded',
    duration: '10m',
    publicKeyPem: generateKeyPair().publicKeyPem,
    ...extra,
  });

  beforeAll(async () => {
    gateway = await connectGateway(t, admin, 'gw-mfa');
    bob = await createMember(t, admin, 'bob@example.com', 'admin');
    const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: admin,
      body: { name: 'vault', gatewayId: gateway.id, host: '127.0.0.1', database: 'vault' },
    });
    expect(resource.status).toBe(201);
    const account = await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
      token: admin,
      body: { name: 'guarded', username: 'g', password: 'db-secret', requireMfa: true },
    });
    expect(account.status).toBe(201);
  });
  afterAll(() => gateway?.close());

  it('SessionService.create, called directly (not through HTTP), asks for MFA too', async () => {
    const user = await t.plane.store.users.findById(bob.id);
    if (!user) throw new Error('bob is missing');
    const created = t.plane.services.sessions.create(user, session(), null);
    await expect(created).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_MFA_REQUIRED', details: { challenge: { methods: ['email'] } } });
  });

  it('checks the policy, including its maximum duration, before it asks for a code', async () => {
    const carl = await createMember(t, admin, 'carl@example.com', 'member');
    const noPolicy = await call(t.url, 'POST', '/api/v1/sessions', { token: carl.token, body: session() });
    expect(noPolicy.body.error.code).toBe('GATEHOUSE_ERR_POLICY_DENIED');
    // Over the server's maximum (bob is an admin, so that is his cap): refused before any code is asked.
    const tooLong = await call(t.url, 'POST', '/api/v1/sessions', { token: bob.token, body: session({ duration: '1000h' }) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('GATEHOUSE_ERR_INVALID_INPUT');
  });

  it('refuses a session without MFA with a challenge, and accepts one with a fresh email code', async () => {
    const refused = await call(t.url, 'POST', '/api/v1/sessions', { token: bob.token, body: session() });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('GATEHOUSE_ERR_MFA_REQUIRED');
    expect(refused.body.challenge.methods).toEqual(['email']);
    const before = mails.length;
    expect((await call(t.url, 'POST', '/api/v1/me/mfa/email/send', { token: bob.token })).status).toBe(200);
    const code = await mailedCode('bob@example.com', before);
    const wrong = await call(t.url, 'POST', '/api/v1/sessions', {
      token: bob.token,
      body: session({ mfa: { method: 'email', code: code === '123456' ? '654321' : '123456' } }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('GATEHOUSE_ERR_MFA_INVALID');
    const created = await call(t.url, 'POST', '/api/v1/sessions', { token: bob.token, body: session({ mfa: { method: 'email', code } }) });
    expect(created.status).toBe(201);
    const reused = await call(t.url, 'POST', '/api/v1/sessions', { token: bob.token, body: session({ mfa: { method: 'email', code } }) });
    expect(reused.status).toBe(401);
  });

  it('with TOTP enrolled: asks for totp or email, accepts a fresh code, refuses its replay', async () => {
    const { secret } = await enrollTotp(bob.token);
    const refused = await call(t.url, 'POST', '/api/v1/sessions', { token: bob.token, body: session() });
    expect(refused.body.challenge.methods).toEqual(['totp', 'email']);
    const code = totpCode(secret, 1);
    const created = await call(t.url, 'POST', '/api/v1/sessions', { token: bob.token, body: session({ mfa: { method: 'totp', code } }) });
    expect(created.status).toBe(201);
    const replay = await call(t.url, 'POST', '/api/v1/sessions', { token: bob.token, body: session({ mfa: { method: 'totp', code } }) });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('GATEHOUSE_ERR_MFA_INVALID');
    const actions = (await auditEvents(`actor=${bob.id}`)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['session.mfa_required', 'mfa.verify', 'mfa.verify_failed', 'session.create']));
  });
});

describe('organization enforcement', () => {
  it('only instance admins change it', async () => {
    const member = await createMember(t, admin, 'erin@example.com', 'admin');
    const refused = await call(t.url, 'PATCH', '/api/v1/settings/mfa', { token: member.token, body: { enforce: 'totp' } });
    expect(refused.status).toBe(403);
    expect((await call(t.url, 'GET', '/api/v1/settings/mfa', { token: admin })).body).toEqual({ enforce: 'none', emailAvailable: true });
  });

  it('with TOTP enforced, a user without TOTP must enroll during sign-in, with a token good only for enrollment', async () => {
    await createMember(t, admin, 'dave@example.com', 'member');
    const set = await call(t.url, 'PATCH', '/api/v1/settings/mfa', { token: admin, body: { enforce: 'totp' } });
    expect(set.status).toBe(200);
    // The admin's own password-only sign-in no longer works either: they enroll like everyone.
    expect((await call(t.url, 'GET', '/api/v1/me', { token: admin })).status).toBe(401);
    const adminStart = await call(t.url, 'POST', '/api/v1/auth/login', { body: ADMIN });
    const adminEnroll = await call(t.url, 'POST', '/api/v1/auth/mfa/totp/enroll', { body: { mfaToken: adminStart.body.mfaToken } });
    const adminConfirm = await call(t.url, 'POST', '/api/v1/auth/mfa/totp/confirm', {
      body: { mfaToken: adminStart.body.mfaToken, code: totpCode(adminEnroll.body.secret) },
    });
    expect(adminConfirm.status).toBe(200);
    admin = adminConfirm.body.accessToken;
    try {
      const start = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'dave@example.com', password: PASSWORD } });
      expect(start.status).toBe(200);
      expect(start.body).toEqual({ mfaRequired: true, mfaEnrollmentRequired: true, mfaToken: expect.any(String), methods: ['totp'] });
      const token = start.body.mfaToken as string;
      expect((await call(t.url, 'POST', '/api/v1/auth/mfa/verify', { body: { mfaToken: token, method: 'totp', code: '123456' } })).status).toBe(401);
      expect((await call(t.url, 'POST', '/api/v1/auth/mfa/email/send', { body: { mfaToken: token } })).status).toBe(401);
      expect((await call(t.url, 'GET', '/api/v1/me', { token })).status).toBe(401);

      const enroll = await call(t.url, 'POST', '/api/v1/auth/mfa/totp/enroll', { body: { mfaToken: token } });
      expect(enroll.status).toBe(200);
      const confirm = await call(t.url, 'POST', '/api/v1/auth/mfa/totp/confirm', { body: { mfaToken: token, code: totpCode(enroll.body.secret) } });
      expect(confirm.status).toBe(200);
      expect(confirm.body.recoveryCodes).toHaveLength(10);
      expect((await call(t.url, 'GET', '/api/v1/me', { token: confirm.body.accessToken })).body.user.email).toBe('dave@example.com');

      // From now on dave signs in with TOTP (recovery codes too, not email: TOTP is enforced).
      const next = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'dave@example.com', password: PASSWORD } });
      expect(next.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ['totp', 'recovery'] });
      // And cannot turn TOTP off while it is enforced.
      const off = await call(t.url, 'DELETE', '/api/v1/me/mfa/totp', { token: confirm.body.accessToken, body: { code: confirm.body.recoveryCodes[0] } });
      expect(off.status).toBe(403);
    } finally {
      await call(t.url, 'PATCH', '/api/v1/settings/mfa', { token: admin, body: { enforce: 'none' } });
    }
    expect((await auditEvents('action=settings.mfa_update')).map((e) => e.details.enforce)).toEqual(['totp', 'none']);
  });
});
