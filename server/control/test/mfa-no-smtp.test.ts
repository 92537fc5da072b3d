/** Without SMTP on the server, anything that needs an email code says the admin must configure it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, call, login, startTestPlane, type TestPlane } from './helpers.ts';

let t: TestPlane;
let admin: string;

beforeAll(async () => {
  t = await startTestPlane();
  admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
});
afterAll(async () => {
  await t?.close();
});

describe('MFA without SMTP', () => {
  it('refuses email codes and email enforcement with a clear configuration error', async () => {
    expect((await call(t.url, 'GET', '/api/v1/me/mfa', { token: admin })).body).toMatchObject({ totp: false, emailAvailable: false, methods: ['email'] });
    const send = await call(t.url, 'POST', '/api/v1/me/mfa/email/send', { token: admin });
    expect(send.status).toBe(503);
    expect(send.body.error.code).toBe('GATEHOUSE_ERR_CONFIG');
    expect(send.body.error.message).toMatch(/administrator must configure SMTP.*--smtp-url/);
    const enforce = await call(t.url, 'PATCH', '/api/v1/settings/mfa', { token: admin, body: { enforce: 'email' } });
    expect(enforce.status).toBe(503);
    expect(enforce.body.error.message).toMatch(/SMTP/);
    expect((await call(t.url, 'GET', '/api/v1/settings/mfa', { token: admin })).body).toEqual({ enforce: 'none', emailAvailable: false });
  });
});
