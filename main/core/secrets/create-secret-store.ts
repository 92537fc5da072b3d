import { randomBytes } from 'node:crypto';
import { FallbackSecretStore } from './fallback-secret-store.ts';
import { FileSecretStore } from './file-secret-store.ts';
import { DEFAULT_KEYCHAIN_TIMEOUT_MS, KeytarSecretStore, loadKeytar, type KeytarLike } from './keytar-secret-store.ts';
import { SECRET_SERVICE, type SecretStore, type SecretStoreKind } from './secret-store.ts';

export interface CreateSecretStoreOptions {
  /** The config dir (for the file store). */
  dir: string;
  /** 'keychain' (default) tries the OS keychain first; 'file' never touches it. */
  prefer?: SecretStoreKind;
  service?: string;
  /** Per keychain call. */
  timeoutMs?: number;
  /** A keytar implementation to use instead of `import('keytar')`. */
  keytar?: KeytarLike;
}

export interface SecretStoreChoice {
  store: SecretStore;
  kind: SecretStoreKind;
  /** Why the file was chosen, when it was. */
  reason?: string;
}

/**
 * Picks the OS keychain when a set/get/delete round trip works within the timeout,
 * else the 0600 file in the config dir, and says which one and why.
 */
export async function createSecretStore(opts: CreateSecretStoreOptions): Promise<SecretStoreChoice> {
  const file = new FileSecretStore({ dir: opts.dir });
  if (opts.prefer === 'file') return { store: file, kind: 'file', reason: 'the file store was requested' };

  let keytar = opts.keytar;
  if (!keytar) {
    const loaded = await loadKeytar();
    if (!loaded.ok) return { store: file, kind: 'file', reason: loaded.reason };
    keytar = loaded.keytar;
  }
  const keychain = new KeytarSecretStore(keytar, {
    service: opts.service ?? SECRET_SERVICE,
    timeoutMs: opts.timeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS,
  });
  const problem = await probe(keychain);
  if (problem) return { store: file, kind: 'file', reason: problem };
  return { store: new FallbackSecretStore(keychain, file), kind: 'keychain' };
}

/** A round trip through the keychain; a locked keyring reads back null or throws on write. */
async function probe(store: SecretStore): Promise<string | undefined> {
  const account = `probe:${process.pid}:${randomBytes(6).toString('hex')}`;
  const value = randomBytes(12).toString('hex');
  try {
    await store.set(account, value);
    const back = await store.get(account);
    if (back !== value) {
      await store.delete(account).catch(() => undefined);
      return 'the OS keychain did not return what was written (locked?)';
    }
    await store.delete(account);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
