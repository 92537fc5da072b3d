import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { preparePassword, saslprep } from './saslprep.ts';
import { md5PasswordResponse } from './md5.ts';

describe('SASLprep (RFC 4013 §3 examples)', () => {
  it('maps, normalizes and keeps ASCII as is', () => {
    expect(saslprep('I\u00ADX')).toEqual({ ok: true, value: 'IX' }); // soft hyphen mapped to nothing
    expect(saslprep('user')).toEqual({ ok: true, value: 'user' });
    expect(saslprep('USER')).toEqual({ ok: true, value: 'USER' });
    expect(saslprep('\u00AA')).toEqual({ ok: true, value: 'a' }); // NFKC
    expect(saslprep('\u2168')).toEqual({ ok: true, value: 'IX' }); // NFKC
    expect(saslprep('a\u00A0b')).toEqual({ ok: true, value: 'a b' }); // non-ASCII space → space
    expect(saslprep('pass\u0007word').ok).toBe(true); // pure ASCII passes unchanged, like pg_saslprep
  });

  it('refuses prohibited characters and bad bidi; preparePassword then falls back to the raw password', () => {
    expect(saslprep('\u00e9\u0007').ok).toBe(false); // control character
    expect(saslprep('\u00e9\uE000').ok).toBe(false); // private use
    expect(saslprep('\u0627\u0031').ok).toBe(false); // RandALCat must also end the string
    expect(saslprep('\u0627\u0031\u0628').ok).toBe(true);
    expect(saslprep('\u05d0a\u05d1').ok).toBe(false); // mixes RTL and LTR
    expect(preparePassword('\u00e9\u0007')).toBe('\u00e9\u0007');
    expect(preparePassword('\u2168')).toBe('IX');
  });
});

describe('MD5 password response', () => {
  it('is "md5" + md5hex(md5hex(password + user) + salt)', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const inner = createHash('md5').update('secretalice').digest('hex');
    const expected =
      'md5' +
      createHash('md5')
        .update(Buffer.concat([Buffer.from(inner), salt]))
        .digest('hex');
    expect(md5PasswordResponse('alice', 'secret', salt)).toBe(expected);
    expect(md5PasswordResponse('alice', 'secret', salt)).toMatch(/^md5[0-9a-f]{32}$/);
  });
});
