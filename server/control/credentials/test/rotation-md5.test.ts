/**
 * Issue 13 against a PostgreSQL with `password_encryption = md5` and `md5` in pg_hba (TLS on):
 * Rotate now stores a SCRAM verifier (which md5 lines accept), so the account keeps working
 * through Gatehouse and directly with the new password, and the old MD5 one stops working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRotationStack, type RotationStack } from './rotation-stack.ts';

let s: RotationStack;

beforeAll(async () => {
  s = await startRotationStack({ pg: { authMethod: 'md5' }, allowMd5: true });
}, 120_000);

afterAll(async () => {
  await s?.close();
});

describe('issue 13 item 2: Rotate now on an MD5 password_encryption server', () => {
  it('the role gets a SCRAM verifier; node-postgres through Gatehouse works; old password fails directly, the stored new one works', async () => {
    const id = await s.addAccount('legacy', 'old-password-legacy');
    const before = await s.pg.query("select rolpassword from pg_authid where rolname = 'legacy'");
    expect(before.rows[0].rolpassword).toMatch(/^md5/);

    const res = await s.api('POST', `/accounts/${id}/rotate`);
    expect(res.body.result).toEqual({ ok: true, reconciled: false });
    const after = await s.pg.query("select rolpassword from pg_authid where rolname = 'legacy'");
    expect(after.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(await s.directLogin('legacy', 'old-password-legacy')).toBe('28P01');
    expect(await s.directLogin('legacy', await s.storedPassword(id))).toBe('ok');

    const through = await s.throughGatehouse('legacy');
    expect((await through.client.query('select current_user as u')).rows[0].u).toBe('legacy');
    await through.stop();
    const check = await s.api('POST', `/projects/${s.t.projectId}/resources/${s.resourceId}/accounts/${id}/check`);
    expect(check.body.check.ok).toBe(true);
  });
});
