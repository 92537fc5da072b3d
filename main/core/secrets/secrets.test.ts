import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { createSecretStore, FileSecretStore, KeytarSecretStore, loadKeytar, type KeytarLike } from './index.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-secrets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileSecretStore', () => {
  it('keeps secrets in a file only the user can read, across instances', async () => {
    const a = new FileSecretStore({ dir: join(dir, 'nested') });
    await a.set('tokens:https://a.example', 'refresh-1');
    await a.set('tokens:https://b.example', 'refresh-2');

    const mode = (await stat(a.path)).mode & 0o777;
    expect(mode.toString(8)).toBe('600');
    expect(((await stat(join(dir, 'nested'))).mode & 0o777).toString(8)).toBe('700');

    const b = new FileSecretStore({ dir: join(dir, 'nested') });
    expect(await b.get('tokens:https://a.example')).toBe('refresh-1');
    expect(await b.delete('tokens:https://a.example')).toBe(true);
    expect(await b.delete('tokens:https://a.example')).toBe(false);
    expect(await a.get('tokens:https://a.example')).toBeUndefined();
    expect(await a.get('tokens:https://b.example')).toBe('refresh-2');
    expect(await a.get('constructor')).toBeUndefined();
    expect(await readdir(join(dir, 'nested'))).toEqual(['secrets.json']); // no temp files left behind
  });

  it('keeps the 0600 mode after rewrites and does not lose concurrent writes', async () => {
    const store = new FileSecretStore({ dir });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, `v${i}`)));
    expect(((await stat(store.path)).mode & 0o777).toString(8)).toBe('600');
    const file = JSON.parse(await readFile(store.path, 'utf8')) as { secrets: Record<string, string> };
    expect(Object.keys(file.secrets)).toHaveLength(20);
  });

  it('reports a corrupt file with a code instead of crashing', async () => {
    const store = new FileSecretStore({ dir });
    await store.set('k', 'v');
    await (await import('node:fs/promises')).writeFile(store.path, '{not json');
    await expect(store.get('k')).rejects.toMatchObject({ code: ErrorCodes.CONFIG });
  });
});

describe('createSecretStore fallback', () => {
  it('uses the file when the file is preferred', async () => {
    const choice = await createSecretStore({ dir, prefer: 'file' });
    expect(choice.kind).toBe('file');
  });

  it('falls back to the file, fast, when the keychain hangs (locked keyring waiting for a prompt)', async () => {
    const hanging: KeytarLike = {
      getPassword: () => new Promise(() => undefined),
      setPassword: () => new Promise(() => undefined),
      deletePassword: () => new Promise(() => undefined),
    };
    const started = Date.now();
    const choice = await createSecretStore({ dir, keytar: hanging, timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(choice.kind).toBe('file');
    expect(choice.reason).toMatch(/did not answer within 200 ms/);
    await choice.store.set('tokens:x', 'v');
    expect(await new FileSecretStore({ dir }).get('tokens:x')).toBe('v');
  });

  it('falls back to the file when the keyring is locked (write throws, read gives null)', async () => {
    const locked: KeytarLike = {
      getPassword: () => Promise.resolve(null),
      setPassword: () => Promise.reject(new Error('Cannot create an item in a locked collection')),
      deletePassword: () => Promise.resolve(false),
    };
    const choice = await createSecretStore({ dir, keytar: locked, timeoutMs: 500 });
    expect(choice.kind).toBe('file');
    expect(choice.reason).toMatch(/locked collection/);
  });

  it('keytar calls that hang reject with KEYCHAIN_UNAVAILABLE instead of hanging', async () => {
    const store = new KeytarSecretStore(
      { getPassword: () => new Promise(() => undefined), setPassword: () => Promise.resolve(), deletePassword: () => Promise.resolve(true) },
      { timeoutMs: 100 },
    );
    await expect(store.get('a')).rejects.toMatchObject({ code: ErrorCodes.KEYCHAIN_UNAVAILABLE });
  });

  it('with the real keytar (if installed) and no Secret Service on the bus, picks the file without hanging', async () => {
    if (process.env.GATEHOUSE_TEST_KEYRING === '1') return; // a Secret Service is running on purpose
    const started = Date.now();
    const choice = await createSecretStore({ dir, timeoutMs: 3_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(choice.kind).toBe('file');
    expect(choice.reason).toBeTruthy();
  });
});

const keytarLoad = await loadKeytar();
const keyringEnabled = process.env.GATEHOUSE_TEST_KEYRING === '1' && keytarLoad.ok;
const keyringTitle = keyringEnabled
  ? 'OS keychain through keytar (real Secret Service)'
  : `OS keychain through keytar — SKIPPED: ${
      process.env.GATEHOUSE_TEST_KEYRING !== '1'
        ? 'set GATEHOUSE_TEST_KEYRING=1 and run under a Secret Service (bash scripts/with-keyring.sh npx vitest run main/core/secrets)'
        : keytarLoad.ok
          ? ''
          : keytarLoad.reason
    }`;

describe.skipIf(!keyringEnabled)(keyringTitle, () => {
  it('chooses the keychain and keeps secrets out of the file', async () => {
    const service = `gatehouse-test-${process.pid}`;
    const choice = await createSecretStore({ dir, service });
    expect(choice.reason).toBeUndefined();
    expect(choice.kind).toBe('keychain');
    await choice.store.set('tokens:https://k.example', 'refresh-secret');
    expect(await choice.store.get('tokens:https://k.example')).toBe('refresh-secret');
    await expect(stat(join(dir, 'secrets.json'))).rejects.toMatchObject({ code: 'ENOENT' });

    // a second store (a restarted app) reads what the first wrote
    const again = await createSecretStore({ dir, service });
    expect(await again.store.get('tokens:https://k.example')).toBe('refresh-secret');
    expect(await again.store.delete('tokens:https://k.example')).toBe(true);
    expect(await choice.store.get('tokens:https://k.example')).toBeUndefined();
  });
});
