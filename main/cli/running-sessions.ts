/**
 * The `db access` sessions running on this machine: one small file per session under
 * `<config dir>/running/`, written when its proxy is ready and removed when it ends, so a
 * second `db access` for the same account can point at the running one instead of failing
 * with "port in use". Entries whose process is gone or whose session expired are dropped
 * when read.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeJsonFileAtomic } from '../core/json-file.ts';

export interface RunningSession {
  pid: number;
  domain: string;
  projectId: string;
  /** As given on the command line (name or id) and as the server named them. */
  resource: string;
  account: string;
  resourceName: string;
  accountName: string;
  port: number;
  url: string;
  sessionId: string;
  expiresAt: string;
  /** The session's public key: `sessions extend` from another terminal gets the new certificate issued for it. */
  publicKeyPem?: string;
}

export interface AccountKey {
  domain: string;
  projectId: string;
  resource: string;
  account: string;
}

export class RunningSessions {
  readonly #dir: string;

  constructor(configDir: string) {
    this.#dir = join(configDir, 'running');
  }

  /** Records a ready session; the returned function forgets it (call it when it ends). */
  async add(entry: RunningSession): Promise<() => Promise<void>> {
    const path = join(this.#dir, `${entry.sessionId.replace(/[^\w.-]/g, '_')}.json`);
    await writeJsonFileAtomic(path, entry, 0o600);
    return () => rm(path, { force: true });
  }

  /** A live session of this account started by another process on this machine. */
  async forAccount(key: AccountKey): Promise<RunningSession | undefined> {
    return (await this.#live()).find(
      (s) =>
        s.domain === key.domain &&
        s.projectId === key.projectId &&
        (s.resource === key.resource || s.resourceName === key.resource) &&
        (s.account === key.account || s.accountName === key.account),
    );
  }

  /** A live session by id. */
  async bySession(sessionId: string): Promise<RunningSession | undefined> {
    return (await this.#live()).find((s) => s.sessionId === sessionId);
  }

  /** A live session listening on this local port. */
  async onPort(port: number): Promise<RunningSession | undefined> {
    return (await this.#live()).find((s) => s.port === port);
  }

  async #live(): Promise<RunningSession[]> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const live: RunningSession[] = [];
    for (const name of await readdir(this.#dir)) {
      if (!name.endsWith('.json')) continue;
      const path = join(this.#dir, name);
      const entry = (await readJsonFile(path).catch(() => undefined)) as RunningSession | undefined;
      const usable = entry && typeof entry.pid === 'number' && typeof entry.url === 'string' && typeof entry.port === 'number';
      if (usable && entry.pid !== process.pid && isAlive(entry.pid) && Date.parse(entry.expiresAt) > Date.now()) live.push(entry);
      else if (!usable || entry.pid !== process.pid) await rm(path, { force: true });
    }
    return live;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
