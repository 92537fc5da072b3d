import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { JsonDocument } from '../json-document.ts';
import type { SecretStore } from './secret-store.ts';

export const SECRETS_FILE_NAME = 'secrets.json';

type SecretsFile = { version: 1; secrets: Record<string, string> };

/**
 * Secrets in a JSON file only the user can read (mode 0600), written atomically.
 * The fallback when no OS keychain works (headless machines, CI, a locked keyring).
 */
export class FileSecretStore implements SecretStore {
  readonly kind = 'file' as const;
  readonly #doc: JsonDocument<SecretsFile>;

  constructor(opts: { dir: string }) {
    const path = join(opts.dir, SECRETS_FILE_NAME);
    this.#doc = new JsonDocument({ path, mode: 0o600, parse: (raw) => parseSecrets(raw, path) });
  }

  get path(): string {
    return this.#doc.path;
  }

  async get(account: string): Promise<string | undefined> {
    const { secrets } = await this.#doc.read();
    return Object.hasOwn(secrets, account) ? secrets[account] : undefined;
  }

  async set(account: string, value: string): Promise<void> {
    await this.#doc.update(({ secrets }) => {
      secrets[account] = value;
    });
  }

  async delete(account: string): Promise<boolean> {
    if ((await this.get(account)) === undefined) return false; // no write, no file created
    return this.#doc.update(({ secrets }) => {
      const had = Object.hasOwn(secrets, account);
      delete secrets[account];
      return had;
    });
  }
}

function parseSecrets(raw: unknown, path: string): SecretsFile {
  if (raw === undefined) return { version: 1, secrets: {} };
  const secrets = typeof raw === 'object' && raw !== null ? (raw as { secrets?: unknown }).secrets : undefined;
  if (typeof secrets !== 'object' || secrets === null || !Object.values(secrets).every((v) => typeof v === 'string')) {
    throw new GatehouseError(ErrorCodes.CONFIG, `${path} is not a Gatehouse secrets file; delete it and sign in again`);
  }
  return { version: 1, secrets: { ...(secrets as Record<string, string>) } };
}
