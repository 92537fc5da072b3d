import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../cli.ts';
import { LOCK_FILE_NAME, lockDataDir } from '../data-dir-lock.ts';
import { call } from './helpers.ts';

const BIN = join(import.meta.dirname, '../../../bin/gatehouse-server.mjs');

/** Runs `main()` in this process, capturing what it prints. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('gatehouse-server CLI', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('bootstraps once (--json), refuses a second time; `gatehouse-server start` then serves that admin', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    dirs.push(dataDir);
    const first = await run(['bootstrap', '--data-dir', dataDir, '--email', 'root@example.com', '--password', 'long enough pw', '--project', 'shop', '--json']);
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const made = JSON.parse(lines[0]);
    expect(made).toEqual({ userId: expect.any(String), email: 'root@example.com', projectId: expect.any(String) });

    const second = await run(['bootstrap', '--data-dir', dataDir, '--email', 'x@example.com', '--password', 'long enough pw']);
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toContain('already bootstrapped');

    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--port', '0'], { env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'silent' } });
    let progress = '';
    child.stderr.on('data', (d) => (progress += d));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    // issue 14: it said what it was doing (stderr), before the URL (stdout)
    expect(progress).toMatch(/gatehouse-server: starting .*; opening the embedded store in .*pgdata/);
    // issue 14: while the server runs, its embedded store is locked: a bootstrap (an admin the
    // server would never see) and an audit verify are refused, naming the running process
    const during = await run(['bootstrap', '--data-dir', dataDir, '--email', 'late@example.com', '--password', 'long enough pw']);
    expect(during.code).toBe(1);
    expect(during.stderr).toContain(`is in use by gatehouse-server start (pid ${child.pid}`);
    expect(during.stderr).toContain('GATEHOUSE_ERR_DATA_DIR_IN_USE');
    const verifyDuring = await run(['audit', 'verify', '--data-dir', dataDir]);
    expect(verifyDuring.code).toBe(1);
    expect(verifyDuring.stderr).toContain('GATEHOUSE_ERR_DATA_DIR_IN_USE');
    const res = await call(url, 'POST', '/api/v1/auth/login', { body: { email: 'root@example.com', password: 'long enough pw' } });
    expect(progress).toContain('gatehouse-server: ready; press Ctrl+C to stop'); // written right after the URL
    expect(res.status).toBe(200);
    const me = await call(url, 'GET', '/api/v1/me', { token: res.body.accessToken });
    expect(me.body.projects).toEqual([{ id: made.projectId, name: 'shop', role: 'admin' }]);
    expect((await call(url, 'POST', '/api/v1/auth/login', { body: { email: 'late@example.com', password: 'long enough pw' } })).status).toBe(401);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // stopped: the lock is gone and the store opens again
    const verified = await run(['audit', 'verify', '--data-dir', dataDir]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/audit chain verified: [1-9]\d* events/);
  }, 180_000); // four embedded-store openings in turn: slow on a loaded machine

  it('issue 14: a lock left by a process that is gone is taken over; one held by a live process is not', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    dirs.push(dataDir);
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    await writeFile(join(dataDir, LOCK_FILE_NAME), JSON.stringify({ pid: dead.pid, host: hostname(), command: 'start', since: new Date().toISOString() }));
    const taken = await lockDataDir(dataDir, 'bootstrap'); // the dead process's lock is stale
    expect(JSON.parse(await readFile(join(dataDir, LOCK_FILE_NAME), 'utf8'))).toMatchObject({ pid: process.pid, command: 'bootstrap' });

    // held by a live process (this one): the CLI refuses, naming it
    const refused = await run(['bootstrap', '--data-dir', dataDir, '--email', 'a@example.com', '--password', 'long enough pw']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by gatehouse-server bootstrap (pid ${process.pid}`);
    await taken.release();
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
  });

  it('issue 14: audit verify refuses a data dir with no store instead of creating one and reporting 0 events', async () => {
    const missing = join(tmpdir(), `gatehouse-no-such-dir-${process.pid}-${Date.now()}`);
    const r = await run(['audit', 'verify', '--data-dir', missing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`no Gatehouse store in ${missing}`);
    expect(r.stderr).toContain('GATEHOUSE_ERR_STORE_NOT_FOUND');
    expect(existsSync(missing)).toBe(false);
  });

  it('issue 14: start on a port that is taken says so in one line and exits 1', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    dirs.push(dataDir);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--port', String(port)], {
        env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'silent' },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1); // refused before the slow store opening
      expect(stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
    } finally {
      busy.close();
    }
  });

  it('exits non-zero with a one-line reason on bad usage', async () => {
    const missing = await run(['bootstrap', '--email', 'a@example.com']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--password');
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    const badPort = await run(['start', '--port', 'eighty']);
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.trim().split('\n')).toHaveLength(1);
    expect(badPort.stderr).toContain('--port');
  });
});
