import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { JsonDocument } from '../json-document.ts';
import { allocatePort } from './port-allocation.ts';

export const SETTINGS_FILE_NAME = 'settings.json';

/** Names a remembered port: one per domain, project, resource and account. */
export interface PortKey {
  domain: string;
  projectId: string;
  resource: string;
  account: string;
}

interface SettingsFile {
  version: 1;
  /** The signed-in domain (the default for every command). */
  domain?: string;
  /** Last project used, per domain. */
  lastProject: Record<string, string>;
  /** Remembered local ports, by `portKeyString`. */
  ports: Record<string, number>;
  /** Paths to client programs for the desktop app's launchers (psql, dbeaver, ...). */
  launchers: Record<string, string>;
}

/**
 * The client's settings, a JSON file in the config dir shared by the CLI and the desktop
 * app. Nothing secret lives here (tokens are in the SecretStore).
 */
export class SettingsStore {
  readonly #doc: JsonDocument<SettingsFile>;

  constructor(opts: { dir: string }) {
    const path = join(opts.dir, SETTINGS_FILE_NAME);
    this.#doc = new JsonDocument({ path, parse: (raw) => parseSettings(raw, path) });
  }

  get path(): string {
    return this.#doc.path;
  }

  async getDomain(): Promise<string | undefined> {
    return (await this.#doc.read()).domain;
  }

  async setDomain(domain: string | undefined): Promise<void> {
    await this.#doc.update((s) => {
      if (domain === undefined) delete s.domain;
      else s.domain = domain;
    });
  }

  async getLastProject(domain: string): Promise<string | undefined> {
    return (await this.#doc.read()).lastProject[domain];
  }

  async setLastProject(domain: string, projectId: string): Promise<void> {
    await this.#doc.update((s) => {
      s.lastProject[domain] = projectId;
    });
  }

  /** The remembered port for this account, if any (does not allocate). */
  async rememberedPort(key: PortKey): Promise<number | undefined> {
    return (await this.#doc.read()).ports[portKeyString(key)];
  }

  /**
   * The local port for this account: the remembered one; the first time, a port derived
   * from a hash of the key (40000–59999), probing upward past ports in use or remembered
   * for other accounts, and remembered from then on.
   */
  portFor(domain: string, projectId: string, resource: string, account: string): Promise<number> {
    const key = portKeyString({ domain, projectId, resource, account });
    return this.#doc.update(async (s) => {
      const known = s.ports[key];
      if (known !== undefined) return known;
      const reserved = new Set(
        Object.entries(s.ports)
          .filter(([k]) => k !== key)
          .map(([, p]) => p),
      );
      const port = await allocatePort(key, reserved);
      s.ports[key] = port;
      return port;
    });
  }

  async setPort(key: PortKey, port: number): Promise<void> {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, `port must be an integer 1-65535, got ${port}`);
    }
    await this.#doc.update((s) => {
      s.ports[portKeyString(key)] = port;
    });
  }

  async launchers(): Promise<Record<string, string>> {
    return { ...(await this.#doc.read()).launchers };
  }

  async setLauncherPath(name: string, path: string | undefined): Promise<void> {
    await this.#doc.update((s) => {
      if (path === undefined) delete s.launchers[name];
      else s.launchers[name] = path;
    });
  }
}

export function portKeyString(key: PortKey): string {
  return JSON.stringify([key.domain, key.projectId, key.resource, key.account]);
}

function parseSettings(raw: unknown, path: string): SettingsFile {
  if (raw === undefined) return { version: 1, lastProject: {}, ports: {}, launchers: {} };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GatehouseError(ErrorCodes.CONFIG, `${path} is not a Gatehouse settings file; fix or delete it`);
  }
  const r = raw as Record<string, unknown>;
  return {
    version: 1,
    domain: typeof r.domain === 'string' ? r.domain : undefined,
    lastProject: stringRecord(r.lastProject),
    ports: Object.fromEntries(Object.entries(recordOf(r.ports)).filter((e): e is [string, number] => Number.isInteger(e[1]))),
    launchers: stringRecord(r.launchers),
  };
}

function recordOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringRecord(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(recordOf(value)).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
