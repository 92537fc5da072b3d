import { describe, expect, it } from 'vitest';
import { scramSha256Verifier } from './scram-verifier.ts';

describe('scramSha256Verifier', () => {
  // RFC 7677 test vector (password "pencil", this salt, 4096 rounds): its StoredKey and ServerKey,
  // in the layout PostgreSQL keeps in pg_authid.rolpassword.
  it('builds the verifier PostgreSQL stores (format and RFC 7677 keys)', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const v = scramSha256Verifier('pencil', { salt, iterations: 4096 });
    expect(v).toBe('SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=');
  });

  it('salts each verifier afresh', () => {
    expect(scramSha256Verifier('x')).not.toBe(scramSha256Verifier('x'));
    expect(scramSha256Verifier('x')).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
  });
});
