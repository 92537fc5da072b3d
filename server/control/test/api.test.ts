import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openSealed, targetPasswordContext } from '../../../proxy-core/src/tunnel/sealed-secret.ts';
import { FrameType, decodeFrame, encodeFrame } from '../../../proxy-core/src/tunnel/frames.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { identityFromCertificate } from '../../../proxy-core/src/tls/certs.ts';
import { ADMIN, call, connectGateway, createMember, login, openLink, startTestPlane, waitFor, type TestGateway, type TestPlane } from './helpers.ts';

const DB_PASSWORD = 'Sup3r-Secret-DB-Passw0rd';

let t: TestPlane;
let admin: { accessToken: string; refreshToken: string };

beforeAll(async () => {
  t = await startTestPlane();
  admin = await login(t.url, ADMIN.email, ADMIN.password);
});
afterAll(async () => {
  await t?.close();
});

describe('sign-in and tokens', () => {
  it('signs in with the right password and returns the user', async () => {
    const res = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'ADMIN@example.com', password: ADMIN.password } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: ADMIN.email, isAdmin: true });
    expect(typeof res.body.accessToken).toBe('string');
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    const me = await call(t.url, 'GET', '/api/v1/me', { token: res.body.accessToken });
    expect(me.body).toMatchObject({ user: { email: ADMIN.email }, projects: [{ id: t.projectId, name: 'default', role: 'admin' }] });
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    const wrong = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: 'nope-nope' } });
    const unknown = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'ghost@example.com', password: 'nope-nope' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('GATEHOUSE_ERR_INVALID_CREDENTIALS');
  });

  it('rotates refresh tokens: the old one is refused after use, and its reuse ends the whole sign-in', async () => {
    const first = await login(t.url, ADMIN.email, ADMIN.password);
    const rotated = await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    const reused = await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe('GATEHOUSE_ERR_UNAUTHENTICATED');
    // The reuse revoked the family: the rotated token no longer works either (issue 10 item 6).
    expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } })).status).toBe(401);
    // Logout revokes the given refresh token.
    const fresh = await login(t.url, ADMIN.email, ADMIN.password);
    await call(t.url, 'POST', '/api/v1/auth/logout', { token: fresh.accessToken, body: { refreshToken: fresh.refreshToken } });
    expect((await call(t.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).status).toBe(401);
  });

  it('refuses missing, forged and expired access tokens with 401', async () => {
    const none = await call(t.url, 'GET', '/api/v1/me');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('GATEHOUSE_ERR_UNAUTHENTICATED');
    const [body, sig] = admin.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${sig}`;
    expect((await call(t.url, 'GET', '/api/v1/me', { token: forged })).body.error.code).toBe('GATEHOUSE_ERR_UNAUTHENTICATED');
    expect((await call(t.url, 'GET', '/api/v1/me', { token: 'garbage' })).status).toBe(401);
    // An expired token, signed with the server's real key: sign one with a TTL in the past.
    const { AccessTokens } = await import('../auth/access-tokens.ts');
    const { deriveKeys } = await import('../crypto/keys.ts');
    const { loadRootKey } = await import('../crypto/root-key.ts');
    const keys = deriveKeys(await loadRootKey({ dataDir: t.dataDir }));
    const expired = new AccessTokens(keys.tokenSigning, 900).issue(claims.sub, { sid: claims.sid, mfa: null }, new Date(Date.now() - 3600_000)).token;
    const res = await call(t.url, 'GET', '/api/v1/me', { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('GATEHOUSE_ERR_TOKEN_EXPIRED');
  });
});

describe('request validation', () => {
  it('names the bad field with 400', async () => {
    const res = await call(t.url, 'POST', '/api/v1/projects', { token: admin.accessToken, body: { name: 42 } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'GATEHOUSE_ERR_INVALID_INPUT', field: 'name' });
    expect(res.body.error.message).toContain('name');
    const broken = await call(t.url, 'POST', '/api/v1/auth/login', { rawBody: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('GATEHOUSE_ERR_INVALID_INPUT');
  });

  it('refuses non-JSON with 415 and bodies over 1 MiB with 413', async () => {
    const form = await call(t.url, 'POST', '/api/v1/auth/login', { rawBody: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('GATEHOUSE_ERR_UNSUPPORTED_MEDIA_TYPE');
    const big = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: 'a@b.c', password: 'x'.repeat(1024 * 1024 + 10) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('GATEHOUSE_ERR_PAYLOAD_TOO_LARGE');
    // The server is fine afterwards.
    expect((await call(t.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers unknown routes with 404 JSON; /metrics is off without --metrics-token (served: control-edge.test.ts)', async () => {
    const res = await call(t.url, 'GET', '/api/v1/nope', { token: admin.accessToken });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('GATEHOUSE_ERR_NOT_FOUND');
    const metrics = await call(t.url, 'GET', '/metrics');
    expect(metrics.status).toBe(404);
    expect(metrics.text).not.toContain('gatehouse_http_requests_total');
  });

  it('refuses a duplicate project name with 409', async () => {
    expect((await call(t.url, 'POST', '/api/v1/projects', { token: admin.accessToken, body: { name: 'analytics' } })).status).toBe(201);
    const dup = await call(t.url, 'POST', '/api/v1/projects', { token: admin.accessToken, body: { name: 'analytics' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('GATEHOUSE_ERR_CONFLICT');
  });
});

describe('roles', () => {
  it('gives a member 403 on admin routes and lets them list accessible accounts', async () => {
    const member = await createMember(t, admin.accessToken, 'member@example.com', 'member');
    const res = await call(t.url, 'POST', '/api/v1/gateways', { token: member.token, body: { name: 'sneaky', projectId: t.projectId } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('GATEHOUSE_ERR_FORBIDDEN');
    expect((await call(t.url, 'POST', '/api/v1/projects', { token: member.token, body: { name: 'mine' } })).status).toBe(403);
    expect((await call(t.url, 'GET', `/api/v1/projects/${t.projectId}/accounts`, { token: member.token })).status).toBe(200);
    const auditor = await createMember(t, admin.accessToken, 'auditor@example.com', 'auditor');
    expect((await call(t.url, 'GET', `/api/v1/projects/${t.projectId}/accounts`, { token: auditor.token })).status).toBe(403);
  });
});

describe('gateways', () => {
  it('enrolls once with its token; a second use and an expired token are refused', async () => {
    const created = await call(t.url, 'POST', '/api/v1/gateways', { token: admin.accessToken, body: { name: 'gw-enroll', projectId: t.projectId } });
    expect(created.status).toBe(201);
    expect(created.body.gateway.name).toBe('gw-enroll');
    const { publicKeyPem } = generateKeyPair();
    const enrolled = await call(t.url, 'POST', '/api/v1/gateways/enroll', { body: { token: created.body.enrollmentToken, publicKeyPem } });
    expect(enrolled.status).toBe(200);
    expect(identityFromCertificate(enrolled.body.certificatePem)).toEqual({ kind: 'gateway', id: created.body.gateway.id });
    expect(enrolled.body.caCertificatePem).toContain('BEGIN CERTIFICATE');
    const again = await call(t.url, 'POST', '/api/v1/gateways/enroll', { body: { token: created.body.enrollmentToken, publicKeyPem } });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('GATEHOUSE_ERR_ENROLLMENT_TOKEN_INVALID');

    const late = await call(t.url, 'POST', '/api/v1/gateways', { token: admin.accessToken, body: { name: 'gw-late', projectId: t.projectId } });
    await t.plane.store.db
      .updateTable('enrollment_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('gateway_id', '=', late.body.gateway.id)
      .execute();
    const expired = await call(t.url, 'POST', '/api/v1/gateways/enroll', { body: { token: late.body.enrollmentToken, publicKeyPem } });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('GATEHOUSE_ERR_ENROLLMENT_TOKEN_INVALID');

    const dup = await call(t.url, 'POST', '/api/v1/gateways', { token: admin.accessToken, body: { name: 'gw-enroll', projectId: t.projectId } });
    expect(dup.status).toBe(409);
    const list = await call(t.url, 'GET', '/api/v1/gateways', { token: admin.accessToken });
    expect(list.body.gateways.find((g: { name: string }) => g.name === 'gw-enroll')).toMatchObject({ enrolled: true, connected: false });
  });

  it('opens the link only with a valid, fresh signature', async () => {
    const gw = await connectGateway(t, admin.accessToken, 'gw-link');
    await waitFor(async () =>
      (await call(t.url, 'GET', '/api/v1/gateways', { token: admin.accessToken })).body.gateways.some(
        (g: { id: string; connected: boolean }) => g.id === gw.id && g.connected,
      ),
    );
    const other = generateKeyPair();
    await expect(openLink(t.url, gw.id, other.privateKeyPem)).rejects.toThrow(/401/);
    gw.close();
  });
});

describe('resources, accounts and sessions', () => {
  let gateway: TestGateway;
  let resourceId: string;
  let accountId: string;
  let member: { id: string; token: string };

  beforeAll(async () => {
    gateway = await connectGateway(t, admin.accessToken, 'gw-main');
    member = await createMember(t, admin.accessToken, 'user@example.com', 'member');
  });
  afterAll(() => gateway?.close());

  it('creates, reads, updates resources and accounts without ever returning the password', async () => {
    const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: admin.accessToken,
      body: { name: 'orders', gatewayId: gateway.id, host: '127.0.0.1', database: 'orders' },
    });
    expect(resource.status).toBe(201);
    expect(resource.body.resource).toMatchObject({ name: 'orders', port: 5432, ssl: { enabled: true, rejectUnauthorized: true } });
    resourceId = resource.body.resource.id;
    const dupResource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: admin.accessToken,
      body: { name: 'orders', gatewayId: gateway.id, host: 'x', database: 'y' },
    });
    expect(dupResource.status).toBe(409);

    const responses: string[] = [];
    const account = await call(t.url, 'POST', `/api/v1/resources/${resourceId}/accounts`, {
      token: admin.accessToken,
      body: { name: 'readonly', username: 'ro', password: DB_PASSWORD, description: 'read only' },
    });
    expect(account.status).toBe(201);
    expect(account.body.account).toMatchObject({ name: 'readonly', username: 'ro', hasPassword: true });
    accountId = account.body.account.id;
    // Members access what a policy grants (docs/access-control.md).
    const policy = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/policies`, {
      token: admin.accessToken,
      body: { name: 'member-ro', users: [member.id], accounts: [accountId], maxDurationSeconds: 86_400 },
    });
    expect(policy.status).toBe(201);
    responses.push(account.text);
    responses.push((await call(t.url, 'GET', `/api/v1/resources/${resourceId}/accounts`, { token: admin.accessToken })).text);
    responses.push((await call(t.url, 'GET', `/api/v1/accounts/${accountId}`, { token: admin.accessToken })).text);
    const patched = await call(t.url, 'PATCH', `/api/v1/accounts/${accountId}`, {
      token: admin.accessToken,
      body: { password: `${DB_PASSWORD}-2`, description: 'ro' },
    });
    expect(patched.status).toBe(200);
    responses.push(patched.text);
    responses.push((await call(t.url, 'GET', `/api/v1/projects/${t.projectId}/accounts`, { token: member.token })).text);
    const moved = await call(t.url, 'PATCH', `/api/v1/resources/${resourceId}`, { token: admin.accessToken, body: { port: 5433 } });
    responses.push(moved.text);
    // A new target does not inherit the stored passwords (issue 10 item 2): they are entered again.
    expect(moved.body.passwordsCleared.accountIds).toEqual([accountId]);
    expect((await call(t.url, 'GET', `/api/v1/accounts/${accountId}`, { token: admin.accessToken })).body.account).toMatchObject({
      hasPassword: false,
      passwordNeedsReentry: true,
    });
    responses.push((await call(t.url, 'PATCH', `/api/v1/accounts/${accountId}`, { token: admin.accessToken, body: { password: `${DB_PASSWORD}-2` } })).text);
    responses.push((await call(t.url, 'GET', `/api/v1/projects/${t.projectId}/resources`, { token: admin.accessToken })).text);
    for (const text of responses) expect(text).not.toContain(DB_PASSWORD);
    const accessible = JSON.parse(responses[4]).accounts;
    expect(accessible).toEqual([
      {
        id: accountId,
        name: 'readonly',
        description: 'ro',
        username: 'ro',
        requireMfa: false,
        requireApproval: false,
        maxDurationSeconds: 86_400,
        resource: { id: resourceId, name: 'orders', database: 'orders' },
        gateway: { connected: true, lastSeenAt: expect.any(String) },
      },
    ]);
    // A member may not read the admin view of accounts.
    expect((await call(t.url, 'GET', `/api/v1/resources/${resourceId}/accounts`, { token: member.token })).status).toBe(403);
  });

  it('stores no plaintext password or CA key (dump of accounts and settings)', async () => {
    const accounts = await sql`select * from accounts`.execute(t.plane.store.db);
    const settings = await sql`select * from settings`.execute(t.plane.store.db);
    const dump = JSON.stringify([accounts.rows, settings.rows]);
    expect(dump).not.toContain(DB_PASSWORD);
    expect(dump).not.toContain('PRIVATE KEY');
    expect(dump).toContain('BEGIN CERTIFICATE'); // the CA certificate itself is public
  });

  it('creates a session with a client certificate bound to it; lists, gets, ends it', async () => {
    const { publicKeyPem } = generateKeyPair();
    const res = await call(t.url, 'POST', '/api/v1/sessions', {
      token: member.token,
      body: { projectId: t.projectId, resource: 'orders', account: 'readonly', duration: '1h', publicKeyPem },
    });
    expect(res.status).toBe(201);
    expect(res.text).not.toContain(DB_PASSWORD);
    const session = res.body.session;
    expect(session).toMatchObject({
      status: 'active',
      userEmail: 'user@example.com',
      resource: { id: resourceId, name: 'orders', database: 'orders' },
      account: { id: accountId, name: 'readonly', username: 'ro' },
    });
    expect(Math.abs(Date.parse(session.expiresAt) - Date.now() - 3600_000)).toBeLessThan(10_000);
    expect(identityFromCertificate(res.body.certificatePem)).toEqual({ kind: 'session', id: session.id });
    expect(res.body.gatewayId).toBe(gateway.id);

    expect((await call(t.url, 'GET', `/api/v1/sessions/${session.id}`, { token: member.token })).body.session.id).toBe(session.id);
    const list = await call(t.url, 'GET', `/api/v1/sessions?projectId=${t.projectId}&status=active`, { token: member.token });
    expect(list.body.sessions.map((s: { id: string }) => s.id)).toContain(session.id);

    // The relay hands the gateway the password; nothing else does.
    const tunnel = await t.plane.services.store.sessions.findById(session.id);
    expect(tunnel?.status).toBe('active');

    const ended = await call(t.url, 'POST', `/api/v1/sessions/${session.id}/end`, { token: member.token });
    expect(ended.status).toBe(200);
    expect(ended.body.session.status).toBe('ended');
    expect(ended.body.session.endedAt).toBeDefined();
    await gateway.nextMessage((m) => m.type === 'session-ended' && m.sessionId === session.id && m.reason === 'ended');
    const audit = await t.plane.store.auditEvents.list({ targetId: session.id, limit: 10 });
    expect(audit.map((a) => a.action)).toEqual(['session.create', 'session.end']);
  });

  it('validates duration and refuses when the gateway is offline', async () => {
    const { publicKeyPem } = generateKeyPair();
    const body = { projectId: t.projectId, resource: 'orders', account: 'readonly', publicKeyPem };
    const tooLong = await call(t.url, 'POST', '/api/v1/sessions', { token: member.token, body: { ...body, duration: '25h' } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.field).toBe('duration');
    const weird = await call(t.url, 'POST', '/api/v1/sessions', { token: member.token, body: { ...body, duration: 'forever' } });
    expect(weird.status).toBe(400);
    const badKey = await call(t.url, 'POST', '/api/v1/sessions', { token: member.token, body: { ...body, duration: 60, publicKeyPem: 'nope' } });
    expect(badKey.body.error.field).toBe('publicKeyPem');
    const missing = await call(t.url, 'POST', '/api/v1/sessions', { token: member.token, body: { ...body, account: 'nobody', duration: 60 } });
    expect(missing.status).toBe(404);

    const offline = await call(t.url, 'POST', '/api/v1/gateways', { token: admin.accessToken, body: { name: 'gw-offline', projectId: t.projectId } });
    const r = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: admin.accessToken,
      body: { name: 'dark', gatewayId: offline.body.gateway.id, host: 'h', database: 'd' },
    });
    const dark = await call(t.url, 'POST', `/api/v1/resources/${r.body.resource.id}/accounts`, {
      token: admin.accessToken,
      body: { name: 'a', username: 'u', password: 'p' },
    });
    await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/policies`, {
      token: admin.accessToken,
      body: { name: 'member-dark', users: [member.id], accounts: [dark.body.account.id], maxDurationSeconds: 3600 },
    });
    const unavailable = await call(t.url, 'POST', '/api/v1/sessions', {
      token: member.token,
      body: { ...body, resource: 'dark', account: 'a', duration: '15m' },
    });
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error.code).toBe('GATEHOUSE_ERR_GATEWAY_UNAVAILABLE');
  });

  it('lets only a project admin revoke; tells the gateway', async () => {
    const { publicKeyPem } = generateKeyPair();
    const res = await call(t.url, 'POST', '/api/v1/sessions', {
      token: member.token,
      body: { projectId: t.projectId, resource: resourceId, account: accountId, duration: 600, publicKeyPem },
    });
    const id = res.body.session.id;
    expect((await call(t.url, 'POST', `/api/v1/sessions/${id}/revoke`, { token: member.token })).status).toBe(403);
    const revoked = await call(t.url, 'POST', `/api/v1/sessions/${id}/revoke`, { token: admin.accessToken });
    expect(revoked.body.session.status).toBe('revoked');
    await gateway.nextMessage((m) => m.type === 'session-ended' && m.sessionId === id && m.reason === 'revoked');
    // A stranger cannot see the session at all.
    const stranger = await createMember(t, admin.accessToken, 'stranger@example.com', 'member');
    expect((await call(t.url, 'GET', `/api/v1/sessions/${id}`, { token: stranger.token })).status).toBe(404);
  });

  it('marks a session expired at its expiry and tells the gateway', async () => {
    const { publicKeyPem } = generateKeyPair();
    const res = await call(t.url, 'POST', '/api/v1/sessions', {
      token: member.token,
      body: { projectId: t.projectId, resource: 'orders', account: 'readonly', duration: 1, publicKeyPem },
    });
    const id = res.body.session.id;
    await gateway.nextMessage((m) => m.type === 'session-ended' && m.sessionId === id && m.reason === 'expired', 4000);
    const row = await t.plane.store.sessions.findById(id);
    expect(row?.status).toBe('expired');
    expect((await call(t.url, 'GET', `/api/v1/sessions/${id}`, { token: member.token })).body.session.status).toBe('expired');
  });

  it('relays a tunnel only for the owner of an active session; the password goes to the gateway alone', async () => {
    const { publicKeyPem } = generateKeyPair();
    const res = await call(t.url, 'POST', '/api/v1/sessions', {
      token: member.token,
      body: { projectId: t.projectId, resource: 'orders', account: 'readonly', duration: '15m', publicKeyPem },
    });
    const id = res.body.session.id;
    const stranger = await login(t.url, 'stranger@example.com', 'member password 1');
    await expect(openTunnel(t.url, id, stranger.accessToken)).rejects.toThrow(/404/);
    await expect(openTunnel(t.url, id, 'forged')).rejects.toThrow(/401/);

    const client = await openTunnel(t.url, id, member.token);
    const clientBytes: Buffer[] = [];
    client.on('message', (data) => clientBytes.push(Buffer.from(data as Buffer)));
    const opened = new Promise<Record<string, any>>((resolve) =>
      gateway.ws.on('message', (data, isBinary) => {
        if (!isBinary) return;
        const frame = decodeFrame(Buffer.from(data as Buffer));
        if (frame.type === FrameType.OPEN) resolve(JSON.parse(frame.payload.toString('utf8')));
      }),
    );
    client.send(encodeFrame(FrameType.OPEN, 1, JSON.stringify({ kind: 'pg', clientAddress: '127.0.0.1:5555' })));
    const meta = await opened;
    expect(meta).toMatchObject({ kind: 'pg', sessionId: id, target: { host: '127.0.0.1', port: 5433, database: 'orders', username: 'ro' } });
    // The password travels sealed to the gateway's key (issue 10 item 1).
    expect(JSON.stringify(meta)).not.toContain(DB_PASSWORD);
    expect(openSealed(meta.target.passwordSealed, gateway.privateKeyPem, targetPasswordContext(gateway.id, id))).toBe(`${DB_PASSWORD}-2`);
    expect(Buffer.concat(clientBytes).toString('latin1')).not.toContain(DB_PASSWORD);
    client.terminate();

    await call(t.url, 'POST', `/api/v1/sessions/${id}/end`, { token: member.token });
    await expect(openTunnel(t.url, id, member.token)).rejects.toThrow(/410/);
  });

  it('stores gateway events idempotently and pages them in the logs', async () => {
    const { publicKeyPem } = generateKeyPair();
    const res = await call(t.url, 'POST', '/api/v1/sessions', {
      token: member.token,
      body: { projectId: t.projectId, resource: 'orders', account: 'readonly', duration: '15m', publicKeyPem },
    });
    const sessionId = res.body.session.id;
    const at = new Date().toISOString();
    const events = [
      { seq: 101, sessionId, connectionId: 'c1', at, type: 'connect', applicationName: 'psql' },
      {
        seq: 102,
        sessionId,
        connectionId: 'c1',
        at,
        type: 'statement',
        protocol: 'simple',
        sql: 'select 1',
        durationMs: 1,
        outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 },
      },
      { seq: 103, sessionId, connectionId: 'c1', at, type: 'disconnect', reason: 'client', bytesIn: 10, bytesOut: 20 },
    ];
    gateway.ws.send(JSON.stringify({ type: 'events', events }));
    await gateway.nextMessage((m) => m.type === 'ack' && m.seq === 103);
    gateway.ws.send(JSON.stringify({ type: 'events', events })); // a retry after a lost ack
    const more = { seq: 104, sessionId, connectionId: 'c2', at, type: 'connect-failed', sqlstate: '28P01', message: 'password authentication failed' };
    gateway.ws.send(JSON.stringify({ type: 'events', events: [more] }));
    await gateway.nextMessage((m) => m.type === 'ack' && m.seq === 104);

    const page1 = await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs?limit=2`, { token: member.token });
    expect(page1.body.events.map((e: { seq: number }) => e.seq)).toEqual([101, 102]);
    expect(page1.body.events[1]).toMatchObject({ type: 'statement', sql: 'select 1', outcome: { status: 'ok', rows: 1 } });
    expect(page1.body.next).toBe(102);
    const page2 = await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs?after=${page1.body.next}&limit=2`, { token: member.token });
    expect(page2.body.events.map((e: { seq: number }) => e.seq)).toEqual([103, 104]);
    expect(page2.body.events[0]).toMatchObject({ type: 'disconnect', bytesOut: 20 });
    expect(page2.body.next).toBeUndefined();
    // An auditor of the project reads every session's log.
    const auditor = await createMember(t, admin.accessToken, 'auditor2@example.com', 'auditor');
    expect((await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs`, { token: auditor.token })).body.events).toHaveLength(4);
  });
});

function openTunnel(url: string, sessionId: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/sessions/${sessionId}/tunnel`, {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, r) => reject(new Error(`tunnel refused: ${r.statusCode}`)));
    ws.once('error', reject);
  });
}
