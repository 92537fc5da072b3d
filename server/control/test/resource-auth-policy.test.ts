/**
 * Issue 10 item 2 (API side): only an instance admin may let the gateway answer MD5 or
 * cleartext password requests, and moving a resource (gateway, host, port, TLS) forgets its
 * accounts' stored passwords until they are entered again. Both are audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { ADMIN, call, connectGateway, createMember, login, startTestPlane, type TestGateway, type TestPlane } from './helpers.ts';

let t: TestPlane;
let admin: string;
let projectAdmin: { id: string; token: string };
let member: { id: string; token: string };
let gateway: TestGateway;

beforeAll(async () => {
  t = await startTestPlane();
  admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
  gateway = await connectGateway(t, admin, 'gw-policy');
  projectAdmin = await createMember(t, admin, 'padmin@example.com', 'admin');
  member = await createMember(t, admin, 'pmember@example.com', 'member');
}, 60_000);
afterAll(async () => {
  gateway?.close();
  await t?.close();
});

function createResource(token: string, name: string, extra: Record<string, unknown> = {}) {
  return call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
    token,
    body: { name, gatewayId: gateway.id, host: '127.0.0.1', database: 'app', ...extra },
  });
}

async function tunnelStatus(sessionId: string, token: string): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/sessions/${sessionId}/tunnel`, {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

describe('issue 10 item 2: MD5 and cleartext are an instance admin setting', () => {
  it('a project admin may not turn them on (403), an instance admin may, and anyone who manages the resource may turn them off', async () => {
    const refused = await createResource(projectAdmin.token, 'weak-1', { allowMd5: true });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe(ErrorCodes.FORBIDDEN);
    expect(refused.body.error.message).toMatch(/instance admin/);

    const plain = await createResource(projectAdmin.token, 'weak-2');
    expect(plain.status).toBe(201);
    expect(plain.body.resource).toMatchObject({ allowMd5: false, allowCleartext: false });
    const id = plain.body.resource.id;
    const patchRefused = await call(t.url, 'PATCH', `/api/v1/resources/${id}`, { token: projectAdmin.token, body: { allowCleartext: true } });
    expect(patchRefused.status).toBe(403);

    const byAdmin = await call(t.url, 'PATCH', `/api/v1/resources/${id}`, { token: admin, body: { allowMd5: true, allowCleartext: true } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.resource).toMatchObject({ allowMd5: true, allowCleartext: true });
    // Renaming keeps what the instance admin set; turning off is fine for the project admin.
    expect((await call(t.url, 'PATCH', `/api/v1/resources/${id}`, { token: projectAdmin.token, body: { name: 'weak-2b', allowMd5: true } })).status).toBe(200);
    const off = await call(t.url, 'PATCH', `/api/v1/resources/${id}`, { token: projectAdmin.token, body: { allowCleartext: false } });
    expect(off.body.resource).toMatchObject({ allowMd5: true, allowCleartext: false });

    const changes = (await t.plane.store.auditEvents.list({ targetId: id, limit: 20 })).filter((e) => e.action === 'resource.auth_methods_change');
    expect(changes.map((e) => e.details)).toEqual([{ allowMd5: true, allowCleartext: true }, { allowCleartext: false }]);
    expect(changes[0].actor.email).toBe(ADMIN.email);
  });
});

describe('issue 10 item 2: a moved resource does not carry its stored passwords to the new target', () => {
  it('changing host, port or TLS clears the passwords (said in the answer, audited); no session opens until they are re-entered', async () => {
    const created = await createResource(projectAdmin.token, 'moving');
    const resourceId = created.body.resource.id;
    const account = await call(t.url, 'POST', `/api/v1/resources/${resourceId}/accounts`, {
      token: projectAdmin.token,
      body: { name: 'app', username: 'app', password: 'stored-secret' },
    });
    const accountId = account.body.account.id;
    await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/policies`, {
      token: admin,
      body: { name: 'moving', users: [member.id], accounts: [accountId], maxDurationSeconds: 3600 },
    });

    // A change that keeps the target keeps the password.
    const renamed = await call(t.url, 'PATCH', `/api/v1/resources/${resourceId}`, { token: projectAdmin.token, body: { database: 'app2', host: '127.0.0.1' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.passwordsCleared).toBeUndefined();

    const moved = await call(t.url, 'PATCH', `/api/v1/resources/${resourceId}`, {
      token: projectAdmin.token,
      body: { host: 'attacker.example.com', ssl: { enabled: false, rejectUnauthorized: false } },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.passwordsCleared).toEqual({ accountIds: [accountId], message: expect.stringMatching(/host, ssl changed; enter them again/) });
    expect((await call(t.url, 'GET', `/api/v1/accounts/${accountId}`, { token: projectAdmin.token })).body.account).toMatchObject({
      hasPassword: false,
      passwordNeedsReentry: true,
    });
    const audit = (await t.plane.store.auditEvents.list({ targetId: resourceId, limit: 20 })).find((e) => e.action === 'resource.passwords_clear');
    expect(audit).toMatchObject({
      actor: { email: 'padmin@example.com' },
      projectId: t.projectId,
      details: { changed: ['host', 'ssl'], accountIds: [accountId] },
    });

    const sessionBody = () => ({ projectId: t.projectId, resource: 'moving', account: 'app', duration: '10m', publicKeyPem: generateKeyPair().publicKeyPem });
    const refused = await call(t.url, 'POST', '/api/v1/sessions', { token: member.token, body: sessionBody() });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: ErrorCodes.CONFLICT, message: expect.stringMatching(/must be entered again/) });

    await call(t.url, 'PATCH', `/api/v1/accounts/${accountId}`, { token: projectAdmin.token, body: { password: 'entered-for-the-new-host' } });
    const session = await call(t.url, 'POST', '/api/v1/sessions', { token: member.token, body: sessionBody() });
    expect(session.status).toBe(201);
    expect((await tunnelStatus(session.body.session.id, member.token)).status).toBe(101);
    // Port alone counts as a move too.
    const port = await call(t.url, 'PATCH', `/api/v1/resources/${resourceId}`, { token: projectAdmin.token, body: { port: 6543 } });
    expect(port.body.passwordsCleared.accountIds).toEqual([accountId]);
  });
});
