import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { readJsonFile, writeJsonFileAtomic } from '../json-file.ts';
import type { SecretStore } from './secret-store.ts';

export const SECRETS_FILE_NAME = 'secrets.json';
const FILE_MODE = 0o600;

type SecretsFile = { version: 1; secrets: Record<string, string> };

/**
 * Secrets in a JSON file only the user can read (mode 0600), written atomically.
 * The fallback when no OS keychain works (headless machines, CI, a locked keyring).
 */
export class FileSecretStore implements SecretStore {
  readonly kind = 'file' as const;
  readonly path: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: { dir: string }) {
    this.path = join(opts.dir, SECRETS_FILE_NAME);
  }

  async get(account: string): Promise<string | undefined> {
    const file = await this.#read();
    return Object.hasOwn(file.secrets, account) ? file.secrets[account] : undefined;
  }

  set(account: string, value: string): Promise<void> {
    return this.#update((secrets) => {
      secrets[account] = value;
      return undefined;
    });
  }

  async delete(account: string): Promise<boolean> {
    if ((await this.get(account)) === undefined) return false; // no write, no file created
    return this.#update((secrets) => {
      const had = Object.hasOwn(secrets, account);
      delete secrets[account];
      return had;
    });
  }

  /** Read-modify-write, serialised within this process; re-reads so other processes' writes survive. */
  #update<T>(change: (secrets: Record<string, string>) => T): Promise<T> {
    const run = this.#queue.then(async () => {
      const file = await this.#read();
      const result = change(file.secrets);
      await writeJsonFileAtomic(this.path, file, FILE_MODE);
      return result;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #read(): Promise<SecretsFile> {
    const raw = await readJsonFile(this.path);
    if (raw === undefined) return { version: 1, secrets: {} };
    if (!isSecretsFile(raw)) {
      throw new GatehouseError(ErrorCodes.CONFIG, `${this.path} is not a Gatehouse secrets file; delete it and sign in again`);
    }
    return { version: 1, secrets: { ...raw.secrets } };
  }
}

function isSecretsFile(value: unknown): value is SecretsFile {
  if (typeof value !== 'object' || value === null) return false;
  const secrets = (value as { secrets?: unknown }).secrets;
  return (
    typeof secrets === 'object' &&
    secrets !== null &&
    Object.values(secrets).every((v) => typeof v === 'string')
  );
}
