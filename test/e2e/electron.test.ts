/**
 * The same flows in the packaged shape: the real Electron main process (bundled by
 * main/electron/build.ts), its preload and window, driven by Playwright's Electron
 * launcher. Skips, saying why, where no Electron binary can launch (as on this CI).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, screenshot, submitSignIn } from './harness.ts';
import { startE2eStack, type Stack } from './stack.ts';

/** The Electron binary, without `require('electron')` (which tries to download it). */
function electronBinary(): { path?: string; problem?: string } {
  const fromEnv = process.env.GATEHOUSE_ELECTRON;
  if (fromEnv) return existsSync(fromEnv) ? { path: fromEnv } : { problem: `GATEHOUSE_ELECTRON=${fromEnv} does not exist` };
  const pkg = join(REPO_ROOT, 'node_modules/electron');
  const pathTxt = join(pkg, 'path.txt');
  if (!existsSync(pathTxt)) return { problem: 'no Electron binary: node_modules/electron/dist was never downloaded (no internet here)' };
  const path = join(pkg, 'dist', readFileSync(pathTxt, 'utf8').trim());
  const run = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  if (run.status !== 0) return { problem: `the Electron binary at ${path} does not run: ${(run.stderr || String(run.error)).slice(0, 200)}` };
  return { path };
}

const electron = electronBinary();
const skipReason = electron.problem;

if (skipReason) console.info(`[e2e] ${import.meta.url.split('/').pop()} skipped: ${skipReason}`);

describe.skipIf(skipReason)(`desktop app in Electron${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let stack: Stack;
  let home: string;
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    const { buildDesktop } = await import('../../main/electron/build.ts');
    [stack] = await Promise.all([startE2eStack(), buildDesktop()]);
    home = await mkdtemp(join(tmpdir(), 'gatehouse-electron-'));
    app = await _electron.launch({
      executablePath: electron.path!,
      args: [join(REPO_ROOT, 'dist/electron/main.cjs'), '--no-sandbox'],
      env: { ...process.env, GATEHOUSE_HOME: home },
    });
    page = await app.firstWindow();
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await stack?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('is hardened: no Node in the renderer, only the contract on window.gatehouse', async () => {
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await page.evaluate(() => Object.keys(window.gatehouse ?? {}).sort())).toEqual(['invoke', 'subscribe']);
  });

  it('refuses a wrong password, then signs in and lists the accounts', async () => {
    await submitSignIn(page, { ...stack, password: 'wrong' });
    await page.getByText('Wrong email or password.').waitFor();
    await submitSignIn(page, stack);
    await page.getByRole('list', { name: `Accounts on ${stack.resource}` }).waitFor();
    await screenshot(page, 'electron-accounts');
  });

  it('gives Access, node-postgres runs a query, counters rise, Stop closes the connection', async () => {
    await page
      .getByRole('listitem', { name: `readonly on ${stack.resource}` })
      .getByRole('button', { name: 'Access' })
      .click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start access' }).click();
    await page.getByTestId('session-state').filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    const url = await page.getByLabel('Connection URL').inputValue();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('SELECT count(*) FROM customers');
    await page
      .getByTestId('stat-statements')
      .filter({ hasText: /^[1-9]\d*$/ })
      .waitFor({ timeout: 5_000 });
    const closed = new Promise<void>((resolve) => {
      client.on('error', () => resolve());
      client.on('end', () => resolve());
    });
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('session-state').filter({ hasText: 'Stopped' }).waitFor({ timeout: 10_000 });
    await closed;
  });
});
