import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../cli.ts';
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
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const res = await call(url, 'POST', '/api/v1/auth/login', { body: { email: 'root@example.com', password: 'long enough pw' } });
    expect(res.status).toBe(200);
    const me = await call(url, 'GET', '/api/v1/me', { token: res.body.accessToken });
    expect(me.body.projects).toEqual([{ id: made.projectId, name: 'shop', role: 'admin' }]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
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
