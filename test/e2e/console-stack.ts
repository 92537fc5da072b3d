/**
 * The web console's e2e world from an empty bootstrap: embedded PostgreSQL with the sample
 * database, `gatehouse-server` as a real process (admin and an empty project, nothing
 * else), its console built by the server's own build function, and Debian's Chromium.
 * Gateways, resources, accounts, users and policies are made through the console by the
 * test itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildConsole } from '../../server/control/console/build.ts';
import { freePort, startPostgres, type PgServer } from '../../server/demo/embedded-postgres.ts';
import { createSampleDatabase, type SampleRoles } from '../../server/demo/sample-database.ts';
import { REPO_ROOT } from './harness.ts';

export const SCREENSHOT_DIR = join(REPO_ROOT, 'docs/screenshots');

export interface Proc {
  child: ChildProcess;
  output(): string;
  kill(): Promise<void>;
}

export function startBin(bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', bin), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface ConsoleStack {
  domain: string;
  email: string;
  password: string;
  projectId: string;
  pg: PgServer;
  roles: SampleRoles;
  dir: string;
  server: Proc;
  /** Processes the test starts (the gateway); stopped by close(). */
  adopt(p: Proc): void;
  close(): Promise<void>;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startConsoleStack(): Promise<ConsoleStack> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-console-e2e-'));
  const procs: Proc[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const p of procs.reverse()) await p.kill();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const consoleDir = join(dir, 'console');
    const [pg] = await Promise.all([startPostgres(), buildConsole(consoleDir)]);
    cleanups.push(() => pg.stop());
    const roles = await createSampleDatabase(pg);
    const serverDir = join(dir, 'server');
    await mkdir(serverDir);
    const email = 'admin@example.com';
    const password = randomBytes(9).toString('hex');
    const boot = startBin('gatehouse-server.mjs', [
      'bootstrap',
      '--data-dir',
      serverDir,
      '--email',
      email,
      '--password',
      password,
      '--project',
      'acme',
      '--json',
    ]);
    await new Promise((r) => boot.child.once('exit', r));
    const projectId = (
      JSON.parse(
        boot
          .output()
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .pop() ?? '{}',
      ) as { projectId: string }
    ).projectId;
    if (!projectId) throw new Error(`bootstrap failed: ${boot.output()}`);
    const port = await freePort();
    const domain = `http://127.0.0.1:${port}`;
    const server = startBin('gatehouse-server.mjs', ['start', '--data-dir', serverDir, '--port', String(port)], { env: { GATEHOUSE_CONSOLE_DIR: consoleDir } });
    procs.push(server);
    await until('the control plane', async () => ((await fetch(`${domain}/healthz`)).ok ? true : undefined));
    return { domain, email, password, projectId, pg, roles, dir, server, adopt: (p) => procs.push(p), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** axe-core run inside the page: the serious and critical violations, as readable lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  // Injected through the debugging protocol: the page's CSP (script-src 'self') stays on.
  if (!loaded) await page.evaluate(await readFile(join(REPO_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(ctx: unknown, o: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`);
}

export async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `console-${name}.png`);
  // Sign-in cards alone: the page behind them is a gradient that only makes the file large.
  const card = page.locator('.signin-card');
  if (await card.isVisible()) await card.screenshot({ path });
  else await page.screenshot({ path });
}
