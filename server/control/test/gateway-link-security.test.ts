/**
 * Issue 10 item 1: gateway link authentication is replay-proof, every link and replacement is
 * audited, and a link that is not the enrolled gateway never sees a plaintext password.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { FrameType, decodeFrame } from '../../../proxy-core/src/tunnel/frames.ts';
import { Mux } from '../../../proxy-core/src/tunnel/mux.ts';
import { openSealed, targetPasswordContext } from '../../../proxy-core/src/tunnel/sealed-secret.ts';
import { startPostgres } from '../../../test/fixtures/postgres.ts';
import { signedLinkHeaders } from '../../../proxy-core/src/tunnel/link-signature.ts';
import { createControlPlane } from '../app.ts';
import { bootstrap } from '../bootstrap.ts';
import { ADMIN, call, createMember, linkChallenge, login, openLinkWithHeaders, startTestPlane, waitFor, type TestPlane } from './helpers.ts';

const DB_PASSWORD = 'the-real-db-password-1';

let t: TestPlane;
let adminToken: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestPlane();
  adminToken = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
}, 60_000);
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await t?.close();
});

async function enrolled(name: string): Promise<{ id: string; privateKeyPem: string }> {
  const created = await call(t.url, 'POST', '/api/v1/gateways', { token: adminToken, body: { name, projectId: t.projectId } });
  const keys = generateKeyPair();
  const res = await call(t.url, 'POST', '/api/v1/gateways/enroll', { body: { token: created.body.enrollmentToken, publicKeyPem: keys.publicKeyPem } });
  expect(res.status).toBe(200);
  return { id: res.body.gatewayId, privateKeyPem: keys.privateKeyPem };
}

async function auditActions(gatewayId: string): Promise<string[]> {
  return (await t.plane.store.auditEvents.list({ targetId: gatewayId, limit: 50 })).map((e) => e.action);
}

function track(ws: WebSocket): WebSocket {
  sockets.push(ws);
  return ws;
}

describe('issue 10 item 1: gateway link replay is refused and links are audited', () => {
  it('a captured set of link headers opens one link only; a timestamp signature no longer opens any', async () => {
    const gw = await enrolled('gw-replay');
    const captured = signedLinkHeaders(gw.id, gw.privateKeyPem, await linkChallenge(t.url, gw.id));
    const first = track(await openLinkWithHeaders(t.url, captured));
    await waitFor(() => t.plane.relay.isGatewayConnected(gw.id));

    await expect(openLinkWithHeaders(t.url, captured)).rejects.toThrow(/401/);
    first.terminate();
    await waitFor(() => !t.plane.relay.isGatewayConnected(gw.id));
    await expect(openLinkWithHeaders(t.url, captured)).rejects.toThrow(/401/);
    // The old form (a timestamp signed within ±60 s) is not accepted either.
    await expect(
      openLinkWithHeaders(t.url, {
        'x-gatehouse-gateway-id': gw.id,
        'x-gatehouse-timestamp': String(Date.now()),
        'x-gatehouse-signature': captured['x-gatehouse-signature'],
      }),
    ).rejects.toThrow(/401/);
    // A challenge signed by another key does not open the link and is not spent by the attempt.
    const nonce = await linkChallenge(t.url, gw.id);
    await expect(openLinkWithHeaders(t.url, signedLinkHeaders(gw.id, generateKeyPair().privateKeyPem, nonce))).rejects.toThrow(/401/);
    track(await openLinkWithHeaders(t.url, signedLinkHeaders(gw.id, gw.privateKeyPem, nonce)));
    await waitFor(() => t.plane.relay.isGatewayConnected(gw.id));
  });

  it('a challenge is refused for a gateway that is not enrolled', async () => {
    const res = await call(t.url, 'POST', '/api/v1/gateways/link-challenge', { body: { gatewayId: 'no-such-gateway' } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(ErrorCodes.UNAUTHENTICATED);
  });

  it('audits every link as gateway.linked and a replacement as gateway.link_replaced', async () => {
    const gw = await enrolled('gw-audit');
    track(await openLinkWithHeaders(t.url, signedLinkHeaders(gw.id, gw.privateKeyPem, await linkChallenge(t.url, gw.id))));
    await waitFor(async () => (await auditActions(gw.id)).includes('gateway.linked'));
    track(await openLinkWithHeaders(t.url, signedLinkHeaders(gw.id, gw.privateKeyPem, await linkChallenge(t.url, gw.id))));
    await waitFor(async () => (await auditActions(gw.id)).includes('gateway.link_replaced'));
    const events = await t.plane.store.auditEvents.list({ targetId: gw.id, limit: 50 });
    const replaced = events.find((e) => e.action === 'gateway.link_replaced');
    expect(replaced).toMatchObject({ target: { kind: 'gateway', id: gw.id }, projectId: t.projectId, sourceAddress: expect.stringContaining('127.0.0.1') });
  });
});

describe('issue 10 item 1: a link opened with a forged identity never sees a plaintext password', () => {
  it('the OPEN frame carries the password only sealed to the enrolled gateway key', async () => {
    const gw = await enrolled('gw-sealed');
    // The attacker got one signed challenge answer before the gateway used it (say, through a
    // TLS-terminating proxy) and opens the link as the gateway; it never holds the gateway key.
    const stolen = signedLinkHeaders(gw.id, gw.privateKeyPem, await linkChallenge(t.url, gw.id));
    const attacker = track(await openLinkWithHeaders(t.url, stolen));
    const opens: Buffer[] = [];
    attacker.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      const frame = decodeFrame(data);
      if (frame.type === FrameType.OPEN) opens.push(Buffer.from(frame.payload));
    });

    const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: adminToken,
      body: { name: 'sealed-db', gatewayId: gw.id, host: '127.0.0.1', database: 'app' },
    });
    const account = await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
      token: adminToken,
      body: { name: 'app', username: 'app', password: DB_PASSWORD },
    });
    const member = await createMember(t, adminToken, 'sealed-user@example.com', 'member');
    await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/policies`, {
      token: adminToken,
      body: { name: 'sealed', users: [member.id], accounts: [account.body.account.id], maxDurationSeconds: 3600 },
    });
    const session = await call(t.url, 'POST', '/api/v1/sessions', {
      token: member.token,
      body: { projectId: t.projectId, resource: 'sealed-db', account: 'app', duration: '10m', publicKeyPem: generateKeyPair().publicKeyPem },
    });
    expect(session.status).toBe(201);
    const sessionId: string = session.body.session.id;

    const tunnel = track(
      new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/sessions/${sessionId}/tunnel`, {
        headers: { authorization: `Bearer ${member.token}` },
        perMessageDeflate: false,
      }),
    );
    await new Promise((resolve, reject) => {
      tunnel.once('open', resolve);
      tunnel.once('error', reject);
    });
    const mux = new Mux(tunnel, { initiator: true, heartbeatIntervalMs: 0 });
    mux.openStream({ kind: 'pg', clientAddress: '127.0.0.1:1' }).on('error', () => undefined);
    await waitFor(() => opens.length > 0);

    const raw = opens[0].toString('utf8');
    expect(raw).not.toContain(DB_PASSWORD);
    const meta = JSON.parse(raw) as { target: Record<string, unknown> };
    expect(meta.target.password).toBeUndefined();
    const sealed = meta.target.passwordSealed as string;
    expect(sealed).toMatch(/^ghseal1\./);
    const context = targetPasswordContext(gw.id, sessionId);
    // Without the enrolled key, the sealed password does not open…
    expect(() => openSealed(sealed, generateKeyPair().privateKeyPem, context)).toThrow(expect.objectContaining({ code: ErrorCodes.DECRYPT_FAILED }));
    // …and it is the real one for the holder of that key, for this session only.
    expect(openSealed(sealed, gw.privateKeyPem, context)).toBe(DB_PASSWORD);
    expect(() => openSealed(sealed, gw.privateKeyPem, targetPasswordContext(gw.id, 'another-session'))).toThrow(
      expect.objectContaining({ code: ErrorCodes.DECRYPT_FAILED }),
    );
    await mux.close();
  });
});

describe('issue 10 item 1: link challenges hold across replicas sharing one store', () => {
  it('a challenge from one replica opens a link on another once; the replay is refused on both', async () => {
    const pgStore = await startPostgres();
    const databaseUrl = `postgres://postgres:${encodeURIComponent(pgStore.superuserPassword)}@127.0.0.1:${pgStore.port}/postgres`;
    const rootKeyBase64 = randomBytes(32).toString('base64');
    const dirs = [await mkdtemp(join(tmpdir(), 'gatehouse-replica-')), await mkdtemp(join(tmpdir(), 'gatehouse-replica-'))];
    const a = createControlPlane({ dataDir: dirs[0], port: 0, databaseUrl, rootKeyBase64 });
    const b = createControlPlane({ dataDir: dirs[1], port: 0, databaseUrl, rootKeyBase64 });
    try {
      const urlA = (await a.start()).url;
      const urlB = (await b.start()).url;
      const { projectId } = await bootstrap(a.store, { ...ADMIN, projectName: 'replicas' });
      const token = (await login(urlA, ADMIN.email, ADMIN.password)).accessToken;
      const created = await call(urlA, 'POST', '/api/v1/gateways', { token, body: { name: 'gw-replicas', projectId } });
      const keys = generateKeyPair();
      const enrolled = await call(urlB, 'POST', '/api/v1/gateways/enroll', { body: { token: created.body.enrollmentToken, publicKeyPem: keys.publicKeyPem } });
      const gatewayId: string = enrolled.body.gatewayId;

      const headers = signedLinkHeaders(gatewayId, keys.privateKeyPem, await linkChallenge(urlA, gatewayId));
      const link = track(await openLinkWithHeaders(urlB, headers));
      await waitFor(() => b.relay.isGatewayConnected(gatewayId));
      await expect(openLinkWithHeaders(urlA, headers)).rejects.toThrow(/401/);
      await expect(openLinkWithHeaders(urlB, headers)).rejects.toThrow(/401/);
      link.terminate();
    } finally {
      await a.close();
      await b.close();
      await pgStore.stop();
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
