import { ApiClient } from '../core/api/api-client.ts';
import { normalizeDomain } from '../core/api/domain.ts';
import { SecretStoreTokenProvider } from '../core/api/token-providers.ts';
import { configDir } from '../core/config-dir.ts';
import { createSecretStore, type SecretStoreChoice } from '../core/secrets/create-secret-store.ts';
import { SettingsStore } from '../core/settings/settings-store.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage-error.ts';

export interface CliContext {
  dir: string;
  settings: SettingsStore;
  secrets: SecretStoreChoice;
  domain: string;
  api: ApiClient;
}

/**
 * The services a command needs: settings and secrets in the config dir, the domain (the
 * --domain flag, else the signed-in one) and an API client whose tokens live in the
 * secret store. `GATEHOUSE_SECRET_STORE=file` skips the OS keychain.
 */
export async function openContext(io: CliIo, command: string, domainFlag: string | undefined): Promise<CliContext> {
  const dir = configDir(io.env);
  const settings = new SettingsStore({ dir });
  const raw = domainFlag ?? (await settings.getDomain());
  if (!raw)
    throw new UsageError(
      "no domain: pass --domain URL, or sign in first with gatehouse login --domain URL (new here? gatehouse invitations accept '<the link you were sent>')",
      command,
    );
  const domain = normalizeDomain(raw);
  const secrets = await createSecretStore({ dir, prefer: io.env.GATEHOUSE_SECRET_STORE === 'file' ? 'file' : 'keychain' });
  const api = new ApiClient({ domain, tokens: new SecretStoreTokenProvider(secrets.store, domain) });
  return { dir, settings, secrets, domain, api };
}
