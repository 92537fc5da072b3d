/**
 * Against the whole product as real processes (PostgreSQL, gatehouse-server, an enrolled
 * gateway) and this machine's SessionManager + local proxy + node-postgres:
 * disabling a user closes their live connection within a second (57P01), and an access
 * request goes from filing to approval to a working connection; a denial and a
 * self-approval are refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../main/core/api/api-client.ts';
import { MemoryTokenProvider } from '../../../main/core/api/token-providers.ts';
import { SessionManager } from '../../../main/core/access/session-manager.ts';
import { SettingsStore } from '../../../main/core/settings/settings-store.ts';
import { startStack, type Stack } from '../../demo/stack.ts';
import { call, login } from './helpers.ts';

interface Member {
  id: string;
  email: string;
  token: string;
  api: ApiClient;
  manager: SessionManager;
}

let stack: Stack;
let dir: string;
const members: Member[] = [];
let accountIds: Record<string, string>;

async function member(email: string): Promise<Member> {
  const password = 'member password 1';
  const created = await stack.api<{ user: { id: string } }>('POST', '/users', { email, password });
  await stack.api('POST', `/projects/${stack.projectId}/members`, { userId: created.user.id, role: 'member' });
  const api = new ApiClient({ domain: stack.domain, tokens: new MemoryTokenProvider() });
  await api.login(email, password);
  const settings = new SettingsStore({ dir: await mkdtemp(join(dir, 'settings-')) });
  const m = {
    id: created.user.id,
    email,
    token: (await login(stack.domain, email, password)).accessToken,
    api,
    manager: new SessionManager({ api, settings }),
  };
  members.push(m);
  return m;
}

beforeAll(async () => {
  stack = await startStack({ pgTls: false, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-access-stack-'));
  const resources = await stack.api<{ resources: { id: string; name: string }[] }>('GET', `/projects/${stack.projectId}/resources`);
  const resource = resources.resources.find((r) => r.name === stack.resource)!;
  const accounts = await stack.api<{ accounts: { id: string; name: string }[] }>('GET', `/resources/${resource.id}/accounts`);
  accountIds = Object.fromEntries(accounts.accounts.map((a) => [a.name, a.id]));
}, 180_000);

afterAll(async () => {
  for (const m of members) {
    await m.manager.close().catch(() => undefined);
    await m.api.close().catch(() => undefined);
  }
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('access control against the real stack', () => {
  it('disabling a user closes their live node-postgres connection within a second (57P01) and refuses their token', async () => {
    const m = await member('leaver@example.com');
    await stack.api('POST', `/projects/${stack.projectId}/policies`, {
      name: 'leaver-ro',
      users: [m.id],
      accounts: [accountIds.readonly],
      maxDurationSeconds: 3600,
    });
    const ready = await m.manager.start({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '30m' });
    const client = new pg.Client({ connectionString: ready.url });
    const clientError = new Promise<{ err: Error & { code?: string }; at: number }>((resolve) => client.on('error', (err) => resolve({ err, at: Date.now() })));
    await client.connect();
    expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe(stack.roles.readonly.username);

    const disabledAt = Date.now();
    await stack.api('PATCH', `/users/${m.id}`, { disabled: true });
    const { err, at } = await clientError;
    expect(at - disabledAt).toBeLessThan(1000);
    expect(err.code).toBe('57P01');
    await client.end().catch(() => undefined);
    const me = await call(stack.domain, 'GET', '/api/v1/me', { token: m.token });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('GATEHOUSE_ERR_USER_DISABLED');
  });

  it('an access request goes from filing to approval to a working connection; self-approval and a denied request are refused', async () => {
    const m = await member('oncall@example.com');
    await stack.api('POST', `/projects/${stack.projectId}/policies`, {
      name: 'oncall-rw',
      users: [m.id],
      accounts: [accountIds.readwrite],
      maxDurationSeconds: 3600,
    });
    await stack.api('PATCH', `/accounts/${accountIds.readwrite}`, { requireApproval: { requiredApprovals: 1 } });
    const start = (accessRequestId?: string) =>
      m.manager.start({
        projectId: stack.projectId,
        resource: stack.resource,
        account: 'readwrite',
        duration: '30m',
        ...(accessRequestId && { accessRequestId }),
      });

    await expect(start()).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_APPROVAL_REQUIRED' });
    const fileRequest = async (reason: string) => {
      const res = await call(stack.domain, 'POST', '/api/v1/access-requests', {
        token: m.token,
        body: { projectId: stack.projectId, resource: stack.resource, account: 'readwrite', duration: '20m', reason },
      });
      expect(res.status).toBe(201);
      return res.body.request.id as string;
    };

    const denied = await fileRequest('just curious');
    await stack.api('POST', `/access-requests/${denied}/deny`, { comment: 'no' });
    await expect(start(denied)).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_APPROVAL_REQUIRED' });

    const id = await fileRequest('INC-99: fix stuck orders');
    const self = await call(stack.domain, 'POST', `/api/v1/access-requests/${id}/approve`, { token: m.token, body: {} });
    expect(self.body.error.code).toBe('GATEHOUSE_ERR_SELF_APPROVAL');
    await expect(start(id)).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_APPROVAL_REQUIRED' });

    const approved = await stack.api<{ request: { status: string; windowEndsAt: string } }>('POST', `/access-requests/${id}/approve`, { comment: 'go' });
    expect(approved.request.status).toBe('approved');
    const ready = await start(id);
    expect(Date.parse(ready.expiresAt)).toBeLessThanOrEqual(Date.parse(approved.request.windowEndsAt));
    const client = new pg.Client({ connectionString: ready.url });
    await client.connect();
    expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe(stack.roles.readwrite.username);
    await client.end();
    await m.manager.stop(ready.sessionId);

    const session = await stack.api<{ session: { userEmail: string; account: { name: string } } }>('GET', `/sessions/${ready.sessionId}`);
    expect(session.session).toMatchObject({ userEmail: 'oncall@example.com', account: { name: 'readwrite' } });
  });
});
