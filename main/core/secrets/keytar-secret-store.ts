import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { SECRET_SERVICE, type SecretStore } from './secret-store.ts';
import { withTimeout } from '../../../proxy-core/src/timers.ts';

/** The part of keytar's API we use (keytar is an optional dependency). */
export interface KeytarLike {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 3_000;

export type KeytarLoadResult = { ok: true; keytar: KeytarLike } | { ok: false; reason: string };

/**
 * Loads keytar if it is installed and its native part links. Never throws: a missing
 * module, a failed dlopen (no libsecret) or an unexpected shape is a reason, not an error.
 */
export async function loadKeytar(): Promise<KeytarLoadResult> {
  const specifier = 'keytar'; // a variable, so type-checking does not require the package
  try {
    const mod = (await import(specifier)) as { default?: unknown } & Record<string, unknown>;
    const candidate = isKeytarLike(mod.default) ? mod.default : mod;
    if (!isKeytarLike(candidate)) return { ok: false, reason: 'keytar loaded but does not look like keytar' };
    return { ok: true, keytar: candidate };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      return { ok: false, reason: 'keytar is not installed' };
    }
    return { ok: false, reason: `keytar failed to load: ${(err as Error).message}` };
  }
}

function isKeytarLike(value: unknown): value is KeytarLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.getPassword === 'function' && typeof v.setPassword === 'function' && typeof v.deletePassword === 'function';
}

/**
 * Secrets in the OS keychain through keytar. Every call has its own timeout: a locked
 * keyring can wait forever for an unlock prompt.
 */
export class KeytarSecretStore implements SecretStore {
  readonly kind = 'keychain' as const;
  readonly #keytar: KeytarLike;
  readonly #service: string;
  readonly #timeoutMs: number;

  constructor(keytar: KeytarLike, opts: { service?: string; timeoutMs?: number } = {}) {
    this.#keytar = keytar;
    this.#service = opts.service ?? SECRET_SERVICE;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
  }

  async get(account: string): Promise<string | undefined> {
    const value = await this.#call('read', () => this.#keytar.getPassword(this.#service, account));
    return value ?? undefined;
  }

  async set(account: string, value: string): Promise<void> {
    await this.#call('write', () => this.#keytar.setPassword(this.#service, account, value));
  }

  async delete(account: string): Promise<boolean> {
    return this.#call('delete', () => this.#keytar.deletePassword(this.#service, account));
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(Promise.resolve().then(fn), this.#timeoutMs, `the OS keychain (${what})`);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new GatehouseError(ErrorCodes.KEYCHAIN_UNAVAILABLE, `the OS keychain is unavailable: ${detail}`, { cause: err });
    }
  }
}
