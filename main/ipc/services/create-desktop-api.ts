/**
 * Wires the desktop app's services from the client core: settings and the secret store in
 * the config dir, one SessionManager per signed-in server, the launchers for this OS.
 * Used by the Electron shell and by the test bridge alike.
 */
import { configDir } from '../../core/config-dir.ts';
import type { ProfilePaths } from '../../core/profiles/index.ts';
import { SessionManager } from '../../core/access/index.ts';
import { createSecretStore } from '../../core/secrets/index.ts';
import { SettingsStore } from '../../core/settings/index.ts';
import { currentLaunchEnv, type LaunchEnv } from '../../launchers/index.ts';
import { defineHandlers, type IpcHandlers } from '../handlers.ts';
import { DesktopApi } from './desktop-api.ts';

export interface CreateDesktopApiOptions {
  /** Config dir; default `configDir()` (GATEHOUSE_HOME, XDG_CONFIG_HOME, ~/.config/gatehouse). */
  dir?: string;
  /** 'file' skips the OS keychain (tests). */
  secrets?: 'keychain' | 'file';
  clipboard?: { writeText(text: string): void };
  launchEnv?: LaunchEnv;
  apiTimeoutMs?: number;
  /** Status events per session at most every this many ms (default 250). */
  statusIntervalMs?: number;
  /** Where client profiles are written (default: this user's pg_service.conf and DBeaver workspace; tests: a temp dir). */
  profilePaths?: ProfilePaths;
}

export interface DesktopServices {
  api: DesktopApi;
  handlers: IpcHandlers;
  /** Where tokens are kept, and why the file when it is the file. */
  secretStore: { kind: 'keychain' | 'file'; reason?: string };
}

export async function createDesktopServices(opts: CreateDesktopApiOptions = {}): Promise<DesktopServices> {
  const dir = opts.dir ?? configDir();
  const settings = new SettingsStore({ dir });
  const secrets = await createSecretStore({ dir, prefer: opts.secrets });
  const api = new DesktopApi({
    dir,
    settings,
    secrets: secrets.store,
    createSessionManager: (client, s) => new SessionManager({ api: client, settings: s, statusIntervalMs: opts.statusIntervalMs }),
    launchEnv: opts.launchEnv ?? currentLaunchEnv(),
    clipboard: opts.clipboard,
    apiTimeoutMs: opts.apiTimeoutMs,
    ...(opts.profilePaths ? { profilePaths: opts.profilePaths } : {}),
  });
  return { api, handlers: defineHandlers(api), secretStore: { kind: secrets.kind, reason: secrets.reason } };
}
