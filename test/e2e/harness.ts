/**
 * Shared pieces of the desktop e2e tests: Debian's Chromium through playwright-core, a
 * fresh renderer build, and the app's real main-process services behind the test bridge.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDesktopServices, type DesktopServices } from '../../main/ipc/services/create-desktop-api.ts';
import { startTestBridge, type TestBridge } from '../../main/ipc/test-bridge.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM_PATH = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (install Debian's chromium or set GATEHOUSE_CHROMIUM)`;
export const SCREENSHOTS = join(REPO_ROOT, 'test/e2e/screenshots');

/** Builds the renderer into a temp dir (each test file its own, so parallel files don't race). */
export async function buildRenderer(): Promise<{ dir: string; close(): Promise<void> }> {
  const { build } = await import('vite');
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-renderer-'));
  await build({ configFile: join(REPO_ROOT, 'renderer/vite.config.ts'), build: { outDir: dir, emptyOutDir: true }, logLevel: 'silent' });
  return { dir, close: () => rm(dir, { recursive: true, force: true }) };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

export interface RunningApp {
  services: DesktopServices;
  bridge: TestBridge;
  /** The app's config dir (settings, tokens file). */
  dir: string;
  close(): Promise<void>;
}

/**
 * The desktop app's real services (file secret store in a temp config dir) behind the bridge.
 * `statusIntervalMs` defaults to 200 (snappy tests); `'app-default'` keeps the app's own.
 */
export async function startApp(staticDir: string, opts: { statusIntervalMs?: number | 'app-default' } = {}): Promise<RunningApp> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-app-'));
  const interval = opts.statusIntervalMs ?? 200;
  const services = await createDesktopServices({
    dir,
    secrets: 'file',
    apiTimeoutMs: 5_000,
    // client profiles in the app's temp dir, never the real ~/.pg_service.conf or DBeaver workspace
    profilePaths: { pgService: join(dir, 'pg_service.conf'), dbeaver: join(dir, 'DBeaverData/workspace6/General/.dbeaver/data-sources.json') },
    ...(interval === 'app-default' ? {} : { statusIntervalMs: interval }),
  });
  const bridge = await startTestBridge({ handlers: services.handlers, staticDir });
  return {
    services,
    bridge,
    dir,
    async close() {
      await bridge.close();
      await services.api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/**
 * A screenshot for the docs: docs/screenshots/desktop-<name>.png (README and docs/ show
 * them). Toasts are dismissed first unless the shot is about one.
 */
export async function docShot(page: Page, name: string, opts: { keepToasts?: boolean } = {}): Promise<void> {
  if (!opts.keepToasts) {
    for (const button of await page.locator('.toast button[aria-label="Dismiss"]').all()) await button.click().catch(() => undefined);
  }
  const dir = join(REPO_ROOT, 'docs/screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `desktop-${name}.png`) });
}

/** How long after navigation the first real screen was up (set by the renderer). */
export async function readyAtMs(page: Page): Promise<number> {
  await page.waitForFunction(() => document.documentElement.dataset.readyAt !== undefined);
  return Number(await page.evaluate(() => document.documentElement.dataset.readyAt));
}

/** Fills in and submits the sign-in form (the page must show it). */
export async function submitSignIn(page: Page, form: { domain: string; email: string; password: string }): Promise<void> {
  await page.getByLabel('Server URL').fill(form.domain);
  await page.getByLabel('Email').fill(form.email);
  await page.getByLabel('Password').fill(form.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
