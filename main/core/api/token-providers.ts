import type { SecretStore } from '../secrets/secret-store.ts';
import type { TokenProvider, Tokens } from './types.ts';

/** Tokens held in memory only (tests, one-shot use). */
export class MemoryTokenProvider implements TokenProvider {
  #tokens: Tokens | undefined;
  constructor(tokens?: Tokens) {
    this.#tokens = tokens;
  }
  get(): Promise<Tokens | undefined> {
    return Promise.resolve(this.#tokens);
  }
  set(tokens: Tokens | undefined): Promise<void> {
    this.#tokens = tokens;
    return Promise.resolve();
  }
}

/** The account under which a domain's tokens are kept in a SecretStore. */
export function tokensAccount(domain: string): string {
  return `tokens:${domain}`;
}

/**
 * Tokens for one domain in the SecretStore (keychain or 0600 file), read on every use so
 * that a refresh by another process (CLI and desktop app side by side) is picked up.
 */
export class SecretStoreTokenProvider implements TokenProvider {
  readonly #store: SecretStore;
  readonly #account: string;

  constructor(store: SecretStore, domain: string) {
    this.#store = store;
    this.#account = tokensAccount(domain);
  }

  async get(): Promise<Tokens | undefined> {
    const raw = await this.#store.get(this.#account);
    if (raw === undefined) return undefined;
    try {
      const value = JSON.parse(raw) as Partial<Tokens>;
      if (typeof value.accessToken === 'string' && typeof value.refreshToken === 'string') {
        return { accessToken: value.accessToken, refreshToken: value.refreshToken, expiresAt: String(value.expiresAt ?? '') };
      }
    } catch {
      // a corrupt entry is the same as no sign-in
    }
    return undefined;
  }

  async set(tokens: Tokens | undefined): Promise<void> {
    if (tokens === undefined) await this.#store.delete(this.#account);
    else await this.#store.set(this.#account, JSON.stringify(tokens));
  }
}
