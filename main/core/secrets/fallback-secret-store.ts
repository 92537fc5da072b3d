import { createLogger } from '../../../proxy-core/src/log.ts';
import type { SecretStore } from './secret-store.ts';

const log = createLogger('secrets');

/**
 * The keychain first, the file when the keychain stops answering (locked later, daemon
 * gone). Reads look in both, deletes clear both, so a value never hides in the other place.
 */
export class FallbackSecretStore implements SecretStore {
  readonly kind: SecretStore['kind'];
  readonly #primary: SecretStore;
  readonly #secondary: SecretStore;

  constructor(primary: SecretStore, secondary: SecretStore) {
    this.#primary = primary;
    this.#secondary = secondary;
    this.kind = primary.kind;
  }

  async get(account: string): Promise<string | undefined> {
    try {
      const value = await this.#primary.get(account);
      if (value !== undefined) return value;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'keychain read failed; reading the secrets file');
    }
    return this.#secondary.get(account);
  }

  async set(account: string, value: string): Promise<void> {
    try {
      await this.#primary.set(account, value);
      await this.#secondary.delete(account);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'keychain write failed; writing the secrets file (mode 0600)');
      await this.#secondary.set(account, value);
    }
  }

  async delete(account: string): Promise<boolean> {
    const [a, b] = await Promise.allSettled([this.#primary.delete(account), this.#secondary.delete(account)]);
    if (b.status === 'rejected' && a.status === 'rejected') throw b.reason;
    return (a.status === 'fulfilled' && a.value) || (b.status === 'fulfilled' && b.value);
  }
}
