/**
 * Builds the web console (vite, renderer/vite.console.config.ts) when its output is missing
 * or older than its sources, so that `npm install` + `npm run demo` (or `gatehouse-server
 * start` from a clone) serve it without a manual build step. The build runs in a child
 * process into a fresh directory that then replaces the old one, so a half-written build is
 * never served; a lock directory keeps two servers on one checkout from building at once.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';

const log = createLogger('console-build');

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const RENDERER_DIR = join(REPO_ROOT, 'renderer');
/** Where the console is built when no `GATEHOUSE_CONSOLE_DIR` is given. */
export const DEFAULT_CONSOLE_DIR = join(RENDERER_DIR, 'dist-console');
/** The page vite writes for the console entry. */
export const CONSOLE_HTML = 'console.html';

const VITE_BIN = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
const CONFIG = join(RENDERER_DIR, 'vite.console.config.ts');
const BUILD_TIMEOUT_MS = 180_000;
const LOCK_STALE_MS = 240_000;

/** Newest modification time among the console's sources (renderer/src, the entry, the config). */
export async function newestSourceMtime(dir = RENDERER_DIR): Promise<number> {
  let newest = 0;
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else newest = Math.max(newest, (await stat(full)).mtimeMs);
    }
  };
  await walk(join(dir, 'src'));
  for (const file of [CONSOLE_HTML, 'vite.console.config.ts']) newest = Math.max(newest, (await stat(join(dir, file))).mtimeMs);
  return newest;
}

/** True when `outDir` holds a console at least as new as its sources. */
export async function isFresh(outDir: string): Promise<boolean> {
  const page = await stat(join(outDir, CONSOLE_HTML)).catch(() => undefined);
  return page !== undefined && page.mtimeMs >= (await newestSourceMtime());
}

/** True when this checkout can build the console (vite installed, sources present). */
export function canBuild(): boolean {
  return existsSync(VITE_BIN) && existsSync(CONFIG);
}

/** Runs the vite build into `outDir` (replaced as a whole once the build succeeded). */
export async function buildConsole(outDir: string): Promise<void> {
  if (!canBuild())
    throw new GatehouseError(
      ErrorCodes.CONFIG,
      'the web console is not built and vite is not installed here: run "npm install" in the Gatehouse checkout, or set GATEHOUSE_CONSOLE_DIR to a built console',
    );
  const staging = `${outDir}.building-${process.pid}-${Date.now()}`;
  const started = Date.now();
  try {
    await run(process.execPath, [VITE_BIN, 'build', '--config', CONFIG, '--outDir', staging, '--emptyOutDir', '--logLevel', 'error']);
    const old = `${outDir}.old-${process.pid}-${Date.now()}`;
    if (existsSync(outDir)) await rename(outDir, old);
    await rename(staging, outDir);
    await rm(old, { recursive: true, force: true });
    log.info({ outDir, ms: Date.now() - started }, 'web console built');
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Makes sure `outDir` holds a fresh console, building it when missing or stale. Other
 * processes building the same directory are waited for (lock directory next to it).
 */
export async function ensureConsoleBuilt(outDir = DEFAULT_CONSOLE_DIR): Promise<void> {
  if (await isFresh(outDir)) return;
  const lock = `${outDir}.lock`;
  await mkdir(dirname(outDir), { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS + 30_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const held = await stat(lock).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new GatehouseError(ErrorCodes.TIMEOUT, `timed out waiting for another process building the console (${lock})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (!(await isFresh(outDir))) await buildConsole(outDir);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new GatehouseError(ErrorCodes.CONFIG, `building the web console failed (${code ?? signal}): ${stderr.trim().slice(-1000)}`));
    });
  });
}
