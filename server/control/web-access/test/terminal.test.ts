/**
 * Web Access, web sessions and the SQL terminal (issue 12), over the real data path: policy,
 * MFA and approval as for any session, the limits (each named when it refuses), the terminal
 * protocol (several results, error positions, notices, transaction state, cursors), a real
 * cancel through the gateway, revocation and idle ending, and a password scan of every
 * message.
 */
import { Secret, TOTP } from 'otpauth';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMember, waitFor } from '../../test/helpers.ts';
import { WebClient } from './client.ts';
import { startWebStack, type WebStack } from './web-stack.ts';

let stack: WebStack;
let web: WebClient;
let admin: string;

const IDLE_SECONDS = 10;
const STATEMENT_TIMEOUT_MS = 3000;
const MAX_ROWS = 50;

function body(accountId: string, extra: Record<string, unknown> = {}) {
  return {
    projectId: stack.projectId,
    resourceId: stack.resourceId,
    accountId,
    duration: '30m',
    ...extra,
  };
}

async function startWeb(token: string, accountId = stack.accountIds.readwrite) {
  const res = await web.api('POST', '/api/v1/web-sessions', token, body(accountId));
  if (res.status !== 201) throw new Error(res.text);
  return res.body as { id: string; sessionId: string };
}

async function member(email: string, role: 'admin' | 'member' = 'member', accounts: string[] = [stack.accountIds.readwrite]) {
  const m = await createMember(stack.plane, admin, email, role);
  if (accounts.length > 0)
    await web.api('POST', `/api/v1/projects/${stack.projectId}/policies`, admin, {
      name: `p-${email.split('@')[0]}`,
      users: [m.id],
      accounts,
      maxDurationSeconds: 3600,
    });
  return m;
}

beforeAll(async () => {
  stack = await startWebStack({
    webIdleTimeoutSeconds: IDLE_SECONDS,
    webStatementTimeoutMs: STATEMENT_TIMEOUT_MS,
    webMaxRowsPerResult: MAX_ROWS,
    webMaxSessionsPerUser: 2,
  });
  web = new WebClient(stack.domain);
  admin = stack.adminToken;
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe('issue 12: web sessions follow the rules of every session', () => {
  it('policy: a member without a policy on the account is refused with POLICY_DENIED; with one, the web session opens', async () => {
    const carl = await member('carl@example.com', 'member', []);
    const refused = await web.api('POST', '/api/v1/web-sessions', carl.token, body(stack.accountIds.readwrite));
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('GATEHOUSE_ERR_POLICY_DENIED');
    const tooLong = await web.api('POST', '/api/v1/web-sessions', carl.token, body(stack.accountIds.readwrite, { duration: '1000h' }));
    expect(tooLong.status).toBe(400);
    await web.api('POST', `/api/v1/projects/${stack.projectId}/policies`, admin, {
      name: 'carl-rw',
      users: [carl.id],
      accounts: [stack.accountIds.readwrite],
      maxDurationSeconds: 3600,
    });
    const ok = await web.api('POST', '/api/v1/web-sessions', carl.token, body(stack.accountIds.readwrite));
    expect(ok.status, ok.text).toBe(201);
    expect((await web.api('DELETE', `/api/v1/web-sessions/${ok.body.id}`, carl.token)).status).toBe(204);
  });

  it('MFA: an account that requires MFA answers MFA_REQUIRED with the challenge, then opens with a fresh TOTP code (once)', async () => {
    const { account } = (
      await web.api('POST', `/api/v1/resources/${stack.resourceId}/accounts`, admin, {
        name: 'guarded',
        username: stack.roles.readonly.username,
        password: stack.roles.readonly.password,
        requireMfa: true,
      })
    ).body;
    const dana = await member('dana@example.com', 'member', [account.id]);
    const enroll = await web.api('POST', '/api/v1/me/mfa/totp/enroll', dana.token);
    const secret = Secret.fromBase32(enroll.body.secret);
    const code = (offset = 0) =>
      new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' }).generate({
        timestamp: Date.now() + offset * 30_000,
      });
    expect(
      (
        await web.api('POST', '/api/v1/me/mfa/totp/confirm', dana.token, {
          code: code(),
        })
      ).status,
    ).toBe(200);
    const refused = await web.api('POST', '/api/v1/web-sessions', dana.token, body(account.id));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      error: { code: 'GATEHOUSE_ERR_MFA_REQUIRED' },
      challenge: { methods: ['totp'] },
    });
    const fresh = code(1);
    const opened = await web.api('POST', '/api/v1/web-sessions', dana.token, body(account.id, { mfa: { method: 'totp', code: fresh } }));
    expect(opened.status, opened.text).toBe(201);
    const replay = await web.api('POST', '/api/v1/web-sessions', dana.token, body(account.id, { mfa: { method: 'totp', code: fresh } }));
    expect(replay.body.error.code).toBe('GATEHOUSE_ERR_MFA_INVALID');
    await web.api('DELETE', `/api/v1/web-sessions/${opened.body.id}`, dana.token);
  });

  it('approval: an account that requires approval answers APPROVAL_REQUIRED until a request is approved', async () => {
    const { account } = (
      await web.api('POST', `/api/v1/resources/${stack.resourceId}/accounts`, admin, {
        name: 'gated',
        username: stack.roles.readonly.username,
        password: stack.roles.readonly.password,
      })
    ).body;
    const erin = await member('erin@example.com', 'member', [account.id]);
    const approver = await member('fred@example.com', 'member', []);
    await web.api('PATCH', `/api/v1/accounts/${account.id}`, admin, {
      requireApproval: {
        approverUsers: [approver.id],
        approverGroups: [],
        requiredApprovals: 1,
      },
    });
    const refused = await web.api('POST', '/api/v1/web-sessions', erin.token, body(account.id));
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('GATEHOUSE_ERR_APPROVAL_REQUIRED');
    const filed = await web.api('POST', '/api/v1/access-requests', erin.token, {
      projectId: stack.projectId,
      resource: 'shop',
      account: 'gated',
      duration: '20m',
      reason: 'web access',
    });
    expect(filed.status, filed.text).toBe(201);
    expect((await web.api('POST', `/api/v1/access-requests/${filed.body.request.id}/approve`, approver.token, {})).status).toBe(200);
    const opened = await web.api('POST', '/api/v1/web-sessions', erin.token, body(account.id, { accessRequestId: filed.body.request.id }));
    expect(opened.status, opened.text).toBe(201);
    await web.api('DELETE', `/api/v1/web-sessions/${opened.body.id}`, erin.token);
  });

  it('limit: concurrent web sessions per user are refused over --web-max-sessions with WEB_SESSION_LIMIT naming it', async () => {
    const gil = await member('gil@example.com');
    const a = await startWeb(gil.token);
    const b = await startWeb(gil.token);
    const third = await web.api('POST', '/api/v1/web-sessions', gil.token, body(stack.accountIds.readwrite));
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({
      code: 'GATEHOUSE_ERR_WEB_SESSION_LIMIT',
      message: expect.stringContaining('--web-max-sessions 2'),
    });
    await web.api('DELETE', `/api/v1/web-sessions/${a.id}`, gil.token);
    const again = await web.api('POST', '/api/v1/web-sessions', gil.token, body(stack.accountIds.readwrite));
    expect(again.status).toBe(201);
    await web.api('DELETE', `/api/v1/web-sessions/${b.id}`, gil.token);
    await web.api('DELETE', `/api/v1/web-sessions/${again.body.id}`, gil.token);
  });

  it("a web session is its owner's: another user gets 404 on its routes and its terminal", async () => {
    const hal = await member('hal@example.com');
    const ivy = await member('ivy@example.com');
    const s = await startWeb(hal.token);
    expect((await web.api('GET', `/api/v1/web-sessions/${s.id}/schema`, ivy.token)).status).toBe(404);
    expect((await web.api('DELETE', `/api/v1/web-sessions/${s.id}`, ivy.token)).status).toBe(404);
    await expect(web.terminal(ivy.token, s.id)).rejects.toThrow(/404/);
    await expect(web.terminal('not-a-token', s.id)).rejects.toThrow(/401/);
    const noProtocol = new WebSocket(`${stack.domain.replace(/^http/, 'ws')}/api/v1/web-sessions/${s.id}/terminal`, {
      headers: { authorization: `Bearer ${hal.token}` },
    });
    await expect(new Promise((resolve, reject) => (noProtocol.once('open', resolve), noProtocol.once('error', reject)))).rejects.toThrow(/400/);
    await web.api('DELETE', `/api/v1/web-sessions/${s.id}`, hal.token);
  });
});

describe("issue 12: permission matrix of the Web Access routes (a web session is its owner's alone)", () => {
  it('owner → 2xx; instance admin, project admin, auditor, another member → 404; no token → 401', async () => {
    const owner = await member('owner@example.com');
    const projectAdmin = await member('padmin@example.com', 'admin', []);
    const auditor = await createMember(stack.plane, admin, 'auditor@example.com', 'auditor');
    const other = await member('other@example.com');
    const s = await startWeb(owner.token);
    const t = (rest: string) => `/api/v1/web-sessions/${s.id}${rest}`;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', t('/schema')],
      ['GET', t('/catalog')],
      ['GET', t('/tables/public/customers/columns')],
      ['POST', t('/tables/public/customers/rows'), { limit: 1 }],
      [
        'POST',
        t('/tables/public/customers/changes'),
        {
          changes: [{ op: 'delete', key: { id: 1 }, original: {} }],
          preview: true,
        },
      ],
      ['GET', t('/tables/public/customers/export?format=json')],
    ];
    const roles: Array<[string, string | undefined, number]> = [
      ['owner', owner.token, 200],
      ['instance admin', admin, 404],
      ['project admin', projectAdmin.token, 404],
      ['auditor', auditor.token, 404],
      ['another member', other.token, 404],
      ['no token', undefined, 401],
    ];
    const outcomes: string[] = [];
    for (const [role, token, status] of roles) {
      for (const [method, path, reqBody] of routes) {
        const res = await web.api(method, path, token as string, reqBody);
        outcomes.push(
          `${role} ${method} ${path.replace(s.id, ':id')} → ${res.status}${res.status === status ? '' : ` (expected ${status}: ${res.text.slice(0, 200)})`}`,
        );
      }
      if (token !== undefined && role !== 'owner') await expect(web.terminal(token, s.id)).rejects.toThrow(/404/);
    }
    expect(outcomes.filter((o) => o.includes('expected'))).toEqual([]);
    const term = await web.terminal(owner.token, s.id);
    term.ws.close();
    for (const token of [admin, projectAdmin.token, auditor.token, other.token]) expect((await web.api('DELETE', t(''), token)).status).toBe(404);
    expect((await web.api('DELETE', t(''), owner.token)).status).toBe(204);
  });
});

describe('issue 12: several replicas', () => {
  it('a live web session held by another replica answers 421 WEB_SESSION_ELSEWHERE (affinity), not 404 or a broken session', async () => {
    const nia = await member('nia@example.com');
    const user = (await stack.plane.plane.store.users.findById(nia.id))!;
    const elsewhere = await stack.plane.plane.store.sessions.create(
      {
        id: crypto.randomUUID(),
        projectId: stack.projectId,
        userId: user.id,
        userEmail: user.email,
        resourceId: stack.resourceId,
        resourceName: 'shop',
        database: 'shop',
        accountId: stack.accountIds.readwrite,
        accountName: 'readwrite',
        username: 'readwrite',
        gatewayId: (await stack.plane.plane.store.resources.findById(stack.resourceId))!.gatewayId,
        kind: 'web',
        expiresAt: new Date(Date.now() + 600_000),
      },
      new Date(),
    );
    const res = await web.api('GET', `/api/v1/web-sessions/${elsewhere.id}/schema`, nia.token);
    expect(res.status).toBe(421);
    expect(res.body.error).toMatchObject({ code: 'GATEHOUSE_ERR_WEB_SESSION_ELSEWHERE', message: expect.stringContaining('session affinity') });
    await expect(web.terminal(nia.token, elsewhere.id)).rejects.toThrow(/421/);
    // Ending it works from any replica (in the store; the holder's tunnel gets session-ended).
    expect((await web.api('DELETE', `/api/v1/web-sessions/${elsewhere.id}`, nia.token)).status).toBe(204);
    expect((await web.api('GET', `/api/v1/web-sessions/${elsewhere.id}/schema`, nia.token)).status).toBe(410);
  });
});

describe('issue 12: SQL terminal', () => {
  it('runs a script as several results, with the error position in the script, notices and the transaction state', async () => {
    const s = await startWeb(admin);
    const t = await web.terminal(admin, s.id);
    const results = (await t.run(`select 1 as a; select 'x' as b, null as c;\ncreate temp table tt (x int); insert into tt values (1), (2);`)).filter(
      (m) => m.type === 'result',
    );
    expect(results.map((r) => [r.command, r.rowCount, r.rows])).toEqual([
      ['SELECT', 1, [[1]]],
      ['SELECT', 1, [['x', null]]],
      ['CREATE', null, []],
      ['INSERT', 2, []],
    ]);
    expect(results[1].columns.map((c: any) => c.name)).toEqual(['b', 'c']);

    const script = 'select 1;\nselect * from no_such_table;\nselect 2;';
    const failed = await t.run(script);
    const error = failed.find((m) => m.type === 'error');
    expect(error).toMatchObject({
      code: '42P01',
      message: 'relation "no_such_table" does not exist',
      position: script.indexOf('no_such_table') + 1,
    });
    expect(failed.filter((m) => m.type === 'result')).toHaveLength(1);

    const notice = await t.run(`do $$ begin raise notice 'hello %; --', 42; end $$`);
    expect(notice.find((m) => m.type === 'notice')).toMatchObject({
      message: 'hello 42; --',
      severity: 'NOTICE',
    });

    const states = async (sql: string) =>
      (await t.run(sql))
        .filter((m) => m.type === 'tx')
        .map((m) => m.state)
        .at(-1);
    expect(await states('begin')).toBe('in-transaction');
    expect(await states('select 1/0')).toBe('failed');
    expect(await states('rollback')).toBe('idle');
    t.ws.close();
    await web.api('DELETE', `/api/v1/web-sessions/${s.id}`, admin);
  });

  it(`sends at most --web-max-rows (${MAX_ROWS}) rows per result and the rest through the cursor on fetch`, async () => {
    const s = await startWeb(admin);
    const t = await web.terminal(admin, s.id);
    const [first] = (await t.run('select g from generate_series(1, 120) g')).filter((m) => m.type === 'result');
    expect(first).toMatchObject({ more: true, rowCount: null, command: null });
    expect(first.rows).toHaveLength(MAX_ROWS);
    const fetch = async (rows: number) => {
      const from = t.messages.length;
      t.send({ type: 'fetch', id: `f${from}`, resultId: first.resultId, rows });
      await t.next((m) => m.type === 'done' && m.id === `f${from}`);
      return t.messages.slice(from).find((m) => m.type === 'result');
    };
    const second = await fetch(500);
    expect(second.rows.map((r: number[]) => r[0])).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
    const third = await fetch(500);
    expect(third).toMatchObject({
      more: false,
      rowCount: 120,
      command: 'SELECT',
    });
    expect(third.rows).toHaveLength(20);
    const gone = await fetch(10);
    expect(gone).toBeUndefined();
    expect(t.messages.at(-2)).toMatchObject({ type: 'error', code: '34000' });
    t.ws.close();
    await web.api('DELETE', `/api/v1/web-sessions/${s.id}`, admin);
  });

  it('cancel sends a real CancelRequest through the gateway: select pg_sleep(30) ends in under a second', async () => {
    const s = await startWeb(admin);
    const t = await web.terminal(admin, s.id);
    t.send({ type: 'run', id: 'sleep', sql: 'select pg_sleep(30)' });
    await new Promise((r) => setTimeout(r, 500));
    const cancelledAt = Date.now();
    t.send({ type: 'cancel' });
    const error = await t.next((m) => m.type === 'error' && m.id === 'sleep', 5000);
    const took = Date.now() - cancelledAt;
    expect(error).toMatchObject({
      code: '57014',
      message: 'canceling statement due to user request',
    });
    expect(took).toBeLessThan(1000);
    // The statement is in the session log, with its outcome, recorded at the gateway.
    await waitFor(async () => {
      const logs = await web.api('GET', `/api/v1/sessions/${s.sessionId}/logs?limit=100`, admin);
      return logs.body.events.some(
        (e: any) => e.type === 'statement' && e.sql === 'select pg_sleep(30)' && e.outcome.status === 'error' && e.outcome.sqlstate === '57014',
      );
    }, 10_000);
    t.ws.close();
    await web.api('DELETE', `/api/v1/web-sessions/${s.id}`, admin);
  });

  it(`a statement over --web-statement-timeout (${STATEMENT_TIMEOUT_MS} ms) is cancelled with a message naming the limit`, async () => {
    const s = await startWeb(admin);
    const t = await web.terminal(admin, s.id);
    const started = Date.now();
    const messages = await t.run('select pg_sleep(20)');
    expect(messages.find((m) => m.type === 'error')).toMatchObject({
      code: '57014',
      message: expect.stringContaining('--web-statement-timeout'),
    });
    expect(Date.now() - started).toBeLessThan(STATEMENT_TIMEOUT_MS + 3000);
    t.ws.close();
    // The Data Explorer's connection carries the same limit.
    await stack.pg.query('CREATE VIEW public.slow AS SELECT pg_sleep(20)::text AS z; GRANT SELECT ON public.slow TO readwrite;', 'shop');
    const slow = await web.api('POST', `/api/v1/web-sessions/${s.id}/tables/public/slow/rows`, admin, { limit: 1 });
    expect(slow.status).toBe(422);
    expect(slow.body).toMatchObject({
      sqlstate: '57014',
      error: { code: 'GATEHOUSE_ERR_QUERY_FAILED', message: expect.stringContaining('--web-statement-timeout') },
    });
    await web.api('DELETE', `/api/v1/web-sessions/${s.id}`, admin);
  });

  it('revocation by an admin ends the terminal at once with a clear message; the routes answer 410 SESSION_REVOKED', async () => {
    const jo = await member('jo@example.com');
    const s = await startWeb(jo.token);
    const t = await web.terminal(jo.token, s.id);
    const revokedAt = Date.now();
    expect((await web.api('POST', `/api/v1/sessions/${s.sessionId}/revoke`, admin)).status).toBe(200);
    const ended = await t.next((m) => m.type === 'ended', 5000);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(ended).toMatchObject({
      reason: 'revoked',
      message: expect.stringMatching(/revoked/),
    });
    expect((await t.closed).code).toBe(4000);
    const after = await web.api('GET', `/api/v1/web-sessions/${s.id}/schema`, jo.token);
    expect(after.status).toBe(410);
    expect(after.body.error.code).toBe('GATEHOUSE_ERR_SESSION_REVOKED');
  });

  it('expiry ends the terminal with a clear message at the end of the duration', async () => {
    const max = await member('max@example.com');
    const created = await web.api('POST', '/api/v1/web-sessions', max.token, body(stack.accountIds.readwrite, { duration: 4 }));
    expect(created.status, created.text).toBe(201);
    const t = await web.terminal(max.token, created.body.id);
    const ended = await t.next((m) => m.type === 'ended', 10_000);
    expect(ended).toMatchObject({ reason: 'expired', message: expect.stringMatching(/end of its duration/) });
    expect(Date.now()).toBeLessThan(new Date(created.body.expiresAt).getTime() + 1500);
    const after = await web.api('GET', `/api/v1/web-sessions/${created.body.id}/schema`, max.token);
    expect(after.status).toBe(410);
    expect(after.body.error.code).toBe('GATEHOUSE_ERR_SESSION_EXPIRED');
  });

  it(`a web session idle for --web-idle-timeout (${IDLE_SECONDS} s) ends, in the store too, and says so`, async () => {
    const kim = await member('kim@example.com');
    const s = await startWeb(kim.token);
    const t = await web.terminal(kim.token, s.id);
    const ended = await t.next((m) => m.type === 'ended', (IDLE_SECONDS + 10) * 1000);
    expect(ended).toMatchObject({
      reason: 'idle',
      message: expect.stringContaining('--web-idle-timeout'),
    });
    await waitFor(async () => (await web.api('GET', `/api/v1/sessions/${s.sessionId}`, kim.token)).body.session.status === 'ended', 5000);
    const after = await web.api('GET', `/api/v1/web-sessions/${s.id}/schema`, kim.token);
    expect(after.status).toBe(410);
    expect(after.body.error.message).toContain('idle');
  }, 40_000);

  it('keeps a per-user query history of what ran', async () => {
    const history = await web.api('GET', '/api/v1/web-sessions/history?limit=100', admin);
    expect(history.status).toBe(200);
    expect(history.body.entries.map((e: any) => e.sql)).toEqual(
      expect.arrayContaining(['select pg_sleep(30)', 'begin', 'select g from generate_series(1, 120) g']),
    );
    const others = await member('lou@example.com');
    expect((await web.api('GET', '/api/v1/web-sessions/history', others.token)).body.entries).toEqual([]);
  });

  it('issue 12 password scan: no HTTP response and no WebSocket message carries a database password', () => {
    expect(web.seen.length).toBeGreaterThan(40);
    for (const secret of [stack.roles.readwrite.password, stack.roles.readonly.password, stack.pg.superuserPassword]) {
      for (const text of web.seen) expect(text.includes(secret)).toBe(false);
    }
  });
});
