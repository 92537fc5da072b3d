/**
 * Issue 14 (CLI): the record of `db access` sessions running on this machine — what a second
 * `db access` for the same account is pointed at — forgets sessions whose process is gone or
 * whose time is up, and finds live ones by account (name or id as given) and by port.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunningSessions, type RunningSession } from './running-sessions.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-running-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function entry(pid: number, over: Partial<RunningSession> = {}): RunningSession {
  return {
    pid,
    domain: 'http://127.0.0.1:8080',
    projectId: 'p1',
    resource: 'r-id',
    account: 'readonly',
    resourceName: 'shop',
    accountName: 'readonly',
    port: 45_000,
    url: 'postgresql://ro@127.0.0.1:45000/shop',
    sessionId: `ses_${pid}`,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    ...over,
  };
}

describe('issue 14 CLI: sessions running on this machine', () => {
  it('finds a live one by the names or ids given, and by port; forgets it when told', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const running = new RunningSessions(dir);
      const forget = await running.add(entry(sleeper.pid!));
      const key = { domain: 'http://127.0.0.1:8080', projectId: 'p1', account: 'readonly' };
      expect((await running.forAccount({ ...key, resource: 'shop' }))?.sessionId).toBe(`ses_${sleeper.pid}`);
      expect((await running.forAccount({ ...key, resource: 'r-id' }))?.url).toBe('postgresql://ro@127.0.0.1:45000/shop');
      expect(await running.forAccount({ ...key, resource: 'other' })).toBeUndefined();
      expect(await running.forAccount({ ...key, resource: 'shop', projectId: 'p2' })).toBeUndefined();
      expect((await running.onPort(45_000))?.pid).toBe(sleeper.pid);
      await forget();
      expect(await running.onPort(45_000)).toBeUndefined();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('drops entries whose process is gone (killed without cleanup) or whose session expired', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const running = new RunningSessions(dir);
      await running.add(entry(dead.pid!));
      await running.add(entry(sleeper.pid!, { expiresAt: new Date(Date.now() - 1000).toISOString() }));
      expect(await readdir(join(dir, 'running'))).toHaveLength(2);
      expect(await running.onPort(45_000)).toBeUndefined();
      expect(await readdir(join(dir, 'running'))).toHaveLength(0);
      expect(existsSync(join(dir, 'running'))).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
