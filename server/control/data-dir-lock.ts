/**
 * One process at a time on a data dir's embedded store: PGlite cannot be shared, so a
 * second opener (a `bootstrap` while the server runs) would write where the server never
 * looks. `gatehouse-server` takes this lock before opening the embedded store and frees it
 * on exit; a lock left by a process that is gone (same host) is taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';

export const LOCK_FILE_NAME = 'gatehouse-server.lock';

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Takes the lock for `command` ('start', 'bootstrap', ...); creates the data dir when missing. */
export async function lockDataDir(dataDir: string, command: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE_NAME);
  const me: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(`${JSON.stringify(me)}\n`);
      await file.close();
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(path);
    if (owner && isAlive(owner)) throw inUse(dataDir, path, owner, command);
    await rm(path, { force: true }); // stale: its process is gone
  }
  throw new GatehouseError(ErrorCodes.DATA_DIR_IN_USE, `the data dir ${dataDir} is locked by another process (${path})`);
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, command: String(parsed.command ?? 'gatehouse-server'), since: String(parsed.since ?? '') };
  } catch {
    return undefined; // unreadable or half-written: treat as stale
  }
}

/** A process on another host cannot be checked: it counts as alive. */
function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(dataDir: string, path: string, owner: LockOwner, command: string): GatehouseError {
  const who = `gatehouse-server ${owner.command} (pid ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`}, since ${owner.since})`;
  const what =
    command === 'bootstrap'
      ? 'stop it first, or create users through the running server (POST /api/v1/users, the web console)'
      : command === 'start'
        ? 'a second server on the same embedded store would corrupt it; use another --data-dir, or a shared PostgreSQL (DATABASE_URL) for several replicas'
        : 'stop it first';
  const stale = owner.host === hostname() ? '' : `; if that process is gone, delete ${path}`;
  return new GatehouseError(
    ErrorCodes.DATA_DIR_IN_USE,
    `the data dir ${dataDir} is in use by ${who}; its embedded store allows one process at a time: ${what}${stale}`,
  );
}
