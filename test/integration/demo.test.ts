/**
 * `npm run -s demo -- --json` (the README's command): one JSON line of the agreed shape on
 * stdout once everything is ready, progress on stderr; a person can sign in and reach the
 * sample database with what it printed; SIGTERM stops everything it started.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { request } from 'undici';
import { CliUser, ROOT } from './helpers.ts';
import type { Stack } from '../../server/demo/stack.ts';

// Through npm, as the README says (-s: no npm banner on stdout), in its own process group so
// that whatever is left at the end can be killed as a group.
const demo = spawn('npm', ['run', '-s', 'demo', '--', '--json', '--port', '0'], {
  cwd: ROOT,
  env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let stdout = '';
let stderr = '';
demo.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
demo.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
// closes once every process writing to it (npm, the demo, the servers it started) is gone
const stderrClosed = new Promise<void>((r) => demo.stderr.once('close', () => r()));

afterAll(() => {
  try {
    process.kill(-demo.pid!, 'SIGKILL'); // anything of the group still running after a failure
  } catch {
    // the group is gone: everything stopped
  }
});

describe('npm run demo -- --json', () => {
  it('prints exactly one JSON line of the agreed shape, and the product works with it', async () => {
    const deadline = Date.now() + 90_000;
    while (!stdout.includes('\n')) {
      if (demo.exitCode !== null) throw new Error(`demo exited early (${demo.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`demo not ready after 90 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    // issue 14: it said what it was doing, on stderr
    for (const step of [
      'starting PostgreSQL',
      "creating the control plane's store",
      'starting the control plane on',
      'enrolling and starting a gateway',
      'registering demo-postgres',
    ]) {
      expect(stderr).toContain(`demo: ${step}`);
    }
    expect(stderr).toMatch(/demo: ready in \d+\.\d s/);
    const info = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(['accounts', 'domain', 'email', 'password', 'projectId', 'resource']);
    expect(info.domain).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.resource).toBe('demo-postgres');
    expect(info.accounts).toEqual(['readonly', 'readwrite']);

    const health = await request(`${info.domain as string}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    // The printed domain opens the web console (built by the demo before it printed the line).
    const page = await request(`${info.domain as string}/`, { headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('<div id="root">');

    const stackLike = {
      domain: info.domain,
      email: info.email,
      password: info.password,
      projectId: info.projectId,
      resource: info.resource,
    } as unknown as Stack;
    const user = await CliUser.login(stackLike);
    const access = await user.access(stackLike, { account: 'readonly' });
    const client = new pg.Client({ connectionString: access.url });
    await client.connect();
    const { rows } = await client.query('select count(*)::int as n from customers');
    expect(rows[0].n).toBe(4);
    const denied = await client.query("insert into customers (name, email) values ('x', 'x@x')").catch((e: { code: string }) => e.code);
    expect(denied).toBe('42501');
    await client.end();
    await access.stop();
    await user.close();

    // `kill <npm>`: npm's shell dies without passing SIGTERM on; the demo notices that its
    // parent is gone and still stops everything it started
    demo.kill('SIGTERM');
    await exited;
    await stderrClosed;
    expect(stderr).toContain('demo: stopping');
    expect(stdout.trim().split('\n')).toHaveLength(1); // still that one line
    const after = await request(`${info.domain as string}/healthz`).then(
      () => 'up',
      () => 'down',
    );
    expect(after).toBe('down');
  }, 150_000);
});
