import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessTokens } from '../auth/access-tokens.ts';
import { deriveKeys } from './keys.ts';
import { loadRootKey } from './root-key.ts';
import { SecretBox } from './secret-box.ts';

describe('secret box', () => {
  const box = new SecretBox(deriveKeys(randomBytes(32)).encryption);

  it('round-trips a secret and never shows the plaintext in the sealed form', () => {
    const sealed = box.seal('s3cret-pässword', 'account:a1:password');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(sealed).not.toContain('s3cret');
    expect(box.openString(sealed, 'account:a1:password')).toBe('s3cret-pässword');
    expect(box.seal('same', 'x')).not.toBe(box.seal('same', 'x')); // random IV
  });

  it('refuses tampered ciphertext, another row, another key', () => {
    const sealed = box.seal('s3cret', 'account:a1:password');
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[2], 'base64');
    ct[0] ^= 1;
    const tampered = [parts[0], parts[1], ct.toString('base64'), parts[3]].join('.');
    expect(() => box.open(tampered, 'account:a1:password')).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_DECRYPT_FAILED' }));
    expect(() => box.open(sealed, 'account:a2:password')).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_DECRYPT_FAILED' }));
    const other = new SecretBox(deriveKeys(randomBytes(32)).encryption);
    expect(() => other.open(sealed, 'account:a1:password')).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_DECRYPT_FAILED' }));
    expect(() => box.open('v2.garbage', 'x')).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_DECRYPT_FAILED' }));
  });

  it('derives different subkeys for encryption and signing', () => {
    const keys = deriveKeys(randomBytes(32));
    expect(keys.encryption.equals(keys.tokenSigning)).toBe(false);
  });
});

describe('root key', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('creates root.key with mode 0600 once and reads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-key-'));
    dirs.push(dir);
    const first = await loadRootKey({ dataDir: dir });
    const second = await loadRootKey({ dataDir: dir });
    expect(first.equals(second)).toBe(true);
    expect((await stat(join(dir, 'root.key'))).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(join(dir, 'root.key'), 'utf8')).trim(), 'base64').equals(first)).toBe(true);
  });

  it('takes GATEHOUSE_ROOT_KEY and refuses a key of the wrong size', async () => {
    const key = randomBytes(32);
    expect((await loadRootKey({ dataDir: '/nonexistent', rootKeyBase64: key.toString('base64') })).equals(key)).toBe(true);
    await expect(loadRootKey({ dataDir: '/nonexistent', rootKeyBase64: randomBytes(16).toString('base64') })).rejects.toMatchObject({
      code: 'GATEHOUSE_ERR_CONFIG',
    });
  });
});

describe('access tokens', () => {
  const tokens = new AccessTokens(randomBytes(32), 900);

  it('verifies its own tokens, refuses forged and expired ones', () => {
    const { token } = tokens.issue('user-1', { sid: 'session-1', mfa: null });
    expect(tokens.verify(token)).toMatchObject({ sub: 'user-1', sid: 'session-1' });
    const [body] = token.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), sub: 'admin' })).toString('base64url');
    expect(() => tokens.verify(`${forgedBody}.${token.split('.')[1]}`)).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED' }));
    expect(() => new AccessTokens(randomBytes(32), 900).verify(token)).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_UNAUTHENTICATED' }));
    expect(() => tokens.verify(token, new Date(Date.now() + 901_000))).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_TOKEN_EXPIRED' }));
  });
});
