/**
 * Issue 13 against real PostgreSQL (SCRAM, TLS on, log_statement = 'all'), a real control
 * plane and a real gateway: Rotate now, self-rotation, a rotation account without the
 * privilege, the gateway offline at the due time, the health check, and Check connection
 * (issue 11) with each kind of failure.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql } from '../../../../test/integration/helpers.ts';
import { startRotationStack, type RotationStack } from './rotation-stack.ts';

let s: RotationStack;
const mails: Array<{ to: string; body: string }> = [];
const smtp = new SMTPServer({
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  onData(stream, session, cb) {
    let body = '';
    stream.on('data', (d: Buffer) => (body += d.toString('utf8')));
    stream.on('end', () => {
      mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), body });
      cb();
    });
  },
});

beforeAll(async () => {
  const smtpPort = await new Promise<number>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as AddressInfo).port)));
  s = await startRotationStack({
    pg: { settings: { log_statement: 'all' } },
    plane: { rotationRetryBaseMs: 200, rotationRetryMaxMs: 400, smtpUrl: `smtp://127.0.0.1:${smtpPort}` },
  });
  await s.pg.query("create role rotator login createrole password 'rotator-pw-1'");
}, 120_000);

afterAll(async () => {
  await s?.close();
  await new Promise((r) => smtp.close(() => r(undefined)));
});

async function due(accountId: string): Promise<void> {
  await s.t.plane.store.db
    .updateTable('account_credentials')
    .set({ next_rotation_at: new Date(Date.now() - 1000) })
    .where('account_id', '=', accountId)
    .execute();
}

describe('issue 13 item 2: Rotate now through the gateway', () => {
  it('self-rotation (no rotation account): psql through Gatehouse works, the old password fails directly, the stored new one works, an open connection is unaffected', async () => {
    const oldPassword = 'old-password-app1';
    const id = await s.addAccount('app1', oldPassword, `grant connect on database appdb to app1`);
    const open = await s.throughGatehouse('app1');
    expect((await open.client.query('select current_user as u')).rows[0].u).toBe('app1');

    const res = await s.api('POST', `/accounts/${id}/rotate`);
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ ok: true, reconciled: false });
    expect(res.body.credentials.rotation).toMatchObject({ lastResult: 'ok', failures: 0, pending: false });
    expect(res.body.credentials.rotation.lastRotatedAt).toEqual(expect.any(String));

    const stored = await s.storedPassword(id);
    expect(stored).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(await s.directLogin('app1', oldPassword)).toBe('28P01');
    expect(await s.directLogin('app1', stored)).toBe('ok');
    const verifier = await s.pg.query("select rolpassword from pg_authid where rolname = 'app1'");
    expect(verifier.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);

    // Open connections are unaffected; new ones use the new password.
    expect((await open.client.query('select 2 as n')).rows[0].n).toBe(2);
    await open.client.end();
    const out = await psql(open.url, 'select current_user');
    expect(`${out.stdout}${out.stderr}`).toContain('app1');
    await open.stop();
    const fresh = await s.throughGatehouse('app1');
    expect((await fresh.client.query('select current_user as u')).rows[0].u).toBe('app1');
    await fresh.stop();

    const audit = await s.t.plane.store.db.selectFrom('audit_events').select(['action', 'details']).where('target_id', '=', id).execute();
    expect(audit.map((a) => a.action)).toContain('account.rotated');
  });

  it('with a rotation account: it runs the ALTER ROLE, the account works with its new password', async () => {
    const id = await s.addAccount('app2', 'old-password-app2');
    // PostgreSQL 16+: CREATEROLE needs ADMIN OPTION on the role it alters.
    await s.pg.query('grant app2 to rotator with admin option');
    const set = await s.api('PUT', `/resources/${s.resourceId}/rotation-account`, { username: 'rotator', password: 'rotator-pw-1' });
    expect(set.status).toBe(200);
    expect(set.text).not.toContain('rotator-pw-1');
    const res = await s.api('POST', `/accounts/${id}/rotate`);
    expect(res.body.result.ok).toBe(true);
    expect(await s.directLogin('app2', 'old-password-app2')).toBe('28P01');
    expect(await s.directLogin('app2', await s.storedPassword(id))).toBe('ok');
    const get = await s.api('GET', `/resources/${s.resourceId}/rotation-account`);
    expect(get.body.rotationAccount).toEqual({ username: 'rotator', updatedAt: expect.any(String) });
    await s.api('DELETE', `/resources/${s.resourceId}/rotation-account`);
  });

  it("a rotation account lacking the privilege: a clear failure with the database's error, and the old password keeps working", async () => {
    await s.pg.query("create role weak login password 'weak-pw-1'");
    const id = await s.addAccount('app3', 'old-password-app3');
    await s.api('PUT', `/resources/${s.resourceId}/rotation-account`, { username: 'weak', password: 'weak-pw-1' });
    const res = await s.api('POST', `/accounts/${id}/rotate`);
    expect(res.body.result).toMatchObject({ ok: false, code: 'PERMISSION_DENIED', sqlstate: '42501', message: expect.stringMatching(/permission denied/) });
    expect(res.body.credentials.rotation).toMatchObject({ lastResult: 'failed', pending: false, lastError: { code: 'PERMISSION_DENIED' } });
    expect(await s.storedPassword(id)).toBe('old-password-app3');
    expect(await s.directLogin('app3', 'old-password-app3')).toBe('ok');
    const failed = await s.t.plane.store.db
      .selectFrom('audit_events')
      .select('details')
      .where('target_id', '=', id)
      .where('action', '=', 'account.rotation_failed')
      .execute();
    expect(failed).toHaveLength(1);
    const metrics = await s.t.plane.services.metrics.render();
    expect(metrics).toMatch(/gatehouse_credential_rotations_total\{result="failed",code="PERMISSION_DENIED"\} 1/);
    // The project's admins get one mail naming the account and the database's reason.
    const deadline = Date.now() + 10_000;
    while (!mails.some((m) => m.body.includes('app3'))) {
      if (Date.now() > deadline) throw new Error('no failure mail');
      await new Promise((r) => setTimeout(r, 50));
    }
    const mail = mails.find((m) => m.body.includes('app3'))!;
    expect(mail.to).toBe('admin@example.com');
    expect(mail.body).toMatch(/PERMISSION_DENIED/);
    await s.api('DELETE', `/resources/${s.resourceId}/rotation-account`);
  });
});

describe('issue 13 item 3: scheduling', () => {
  it('rotation settings: on/off and an interval of 1, 3, 7 or 30 days; others are refused', async () => {
    const id = await s.addAccount('app4', 'old-password-app4');
    const bad = await s.api('PATCH', `/accounts/${id}/rotation`, { enabled: true, intervalDays: 2 });
    expect(bad.status).toBe(400);
    const on = await s.api('PATCH', `/accounts/${id}/rotation`, { enabled: true, intervalDays: 7 });
    expect(on.body.credentials.rotation).toMatchObject({ enabled: true, intervalDays: 7 });
    const next = Date.parse(on.body.credentials.rotation.nextRotationAt);
    expect(Math.abs(next - (Date.now() + 7 * 86_400_000))).toBeLessThan(60_000);
  });

  it('the gateway is offline at the due time: GATEWAY_OFFLINE, the old password kept; the rotation runs when the gateway returns', async () => {
    const id = await s.addAccount('app5', 'old-password-app5');
    await s.api('PATCH', `/accounts/${id}/rotation`, { enabled: true, intervalDays: 1 });
    await s.stopGateway();
    await due(id);
    await s.t.plane.credentialScheduler.runOnce();
    const waiting = await s.api('GET', `/accounts/${id}/credentials`);
    expect(waiting.body.credentials.rotation).toMatchObject({ lastResult: 'failed', lastError: { code: 'GATEWAY_OFFLINE' }, pending: false });
    expect(await s.storedPassword(id)).toBe('old-password-app5');

    await s.startGateway();
    const deadline = Date.now() + 15_000;
    for (;;) {
      await s.t.plane.credentialScheduler.runOnce();
      const now = await s.api('GET', `/accounts/${id}/credentials`);
      if (now.body.credentials.rotation.lastResult === 'ok') break;
      if (Date.now() > deadline) throw new Error(`rotation did not run: ${JSON.stringify(now.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await s.directLogin('app5', 'old-password-app5')).toBe('28P01');
    expect(await s.directLogin('app5', await s.storedPassword(id))).toBe('ok');
    const next = await s.api('GET', `/accounts/${id}/credentials`);
    expect(Date.parse(next.body.credentials.rotation.nextRotationAt)).toBeGreaterThan(Date.now() + 86_000_000);
  });
});

describe('issue 13 item 6: credential health', () => {
  it('flags an account whose password was changed directly in the database (status, audit, metric)', async () => {
    const id = await s.addAccount('app6', 'old-password-app6');
    await s.t.plane.store.credentials.healthDueNow();
    await s.t.plane.credentialScheduler.runOnce();
    expect((await s.api('GET', `/accounts/${id}/credentials`)).body.credentials.health.status).toBe('ok');

    await s.pg.query("alter role app6 password 'changed-behind-our-back'");
    await s.t.plane.store.credentials.healthDueNow(id);
    await s.t.plane.credentialScheduler.runOnce();
    const health = (await s.api('GET', `/accounts/${id}/credentials`)).body.credentials.health;
    expect(health).toMatchObject({ status: 'broken', error: { code: 'WRONG_PASSWORD' } });
    const audit = await s.t.plane.store.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', id)
      .where('action', '=', 'account.credential_broken')
      .execute();
    expect(audit).toHaveLength(1);
    expect(await s.t.plane.services.metrics.render()).toMatch(/gatehouse_credentials_broken [1-9]/);
  });
});

describe('issue 11: Check connection reports success or the precise failure without opening a session', () => {
  const check = (accountId: string) => s.api('POST', `/projects/${s.t.projectId}/resources/${s.resourceId}/accounts/${accountId}/check`);

  it('success, wrong password, host unreachable, TLS, gateway offline; audited; no session', async () => {
    const id = await s.addAccount('app7', 'password-app7');
    const sessionsBefore = await s.t.plane.store.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();

    const good = await check(id);
    expect(good.status).toBe(200);
    expect(good.body.check).toMatchObject({ ok: true, username: 'app7', serverVersion: expect.any(String) });

    await s.api('PATCH', `/accounts/${id}`, { password: 'not-the-password' });
    expect((await check(id)).body.check).toMatchObject({ ok: false, code: 'WRONG_PASSWORD', sqlstate: '28P01' });
    await s.api('PATCH', `/accounts/${id}`, { password: 'password-app7' });

    const other = await s.api('POST', `/projects/${s.t.projectId}/resources`, {
      name: 'nowhere',
      gatewayId: s.gatewayId,
      host: '127.0.0.1',
      port: 1,
      database: 'x',
      ssl: { enabled: false },
    });
    const nowhere = await s.api('POST', `/resources/${other.body.resource.id}/accounts`, { name: 'a', username: 'a', password: 'p' });
    const unreachable = await s.api('POST', `/projects/${s.t.projectId}/resources/${other.body.resource.id}/accounts/${nowhere.body.account.id}/check`);
    expect(unreachable.body.check).toMatchObject({ ok: false, code: 'HOST_UNREACHABLE' });

    const tlsRes = await s.api('POST', `/projects/${s.t.projectId}/resources`, {
      name: 'badca',
      gatewayId: s.gatewayId,
      host: '127.0.0.1',
      port: s.pg.port,
      database: 'appdb',
      ssl: { enabled: true, rejectUnauthorized: true },
    });
    const tlsAcc = await s.api('POST', `/resources/${tlsRes.body.resource.id}/accounts`, { name: 'a', username: 'app7', password: 'password-app7' });
    const tls = await s.api('POST', `/projects/${s.t.projectId}/resources/${tlsRes.body.resource.id}/accounts/${tlsAcc.body.account.id}/check`);
    expect(tls.body.check).toMatchObject({ ok: false, code: 'TLS' });

    await s.stopGateway();
    expect((await check(id)).body.check).toMatchObject({ ok: false, code: 'GATEWAY_OFFLINE' });
    await s.startGateway();
    expect((await check(id)).body.check.ok).toBe(true);

    const sessionsAfter = await s.t.plane.store.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(sessionsAfter.n).toBe(sessionsBefore.n);
    const audited = await s.t.plane.store.db
      .selectFrom('audit_events')
      .select('details')
      .where('target_id', '=', id)
      .where('action', '=', 'account.connection_check')
      .execute();
    expect(audited.length).toBe(4);
  });

  it('is for project admins only, and the account must belong to the resource and project in the path', async () => {
    const id = await s.addAccount('app8', 'password-app8');
    const wrong = await s.api('POST', `/projects/${s.t.projectId}/resources/not-this/accounts/${id}/check`);
    expect(wrong.status).toBe(404);
  });
});
