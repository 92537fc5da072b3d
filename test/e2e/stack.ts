/**
 * The real thing behind the desktop app in e2e tests: embedded PostgreSQL with a sample
 * database, the control plane and an enrolled gateway as real processes, bootstrapped
 * through the real API (the demo's `startStack`, which is what `npm run demo` runs).
 */
import type { Browser, Page } from 'playwright-core';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { buildRenderer, launchChromium, startApp, submitSignIn, type RunningApp } from './harness.ts';

export type { Stack };

export function startE2eStack(): Promise<Stack> {
  return startStack({ pgTls: true, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
}

/** A stack, the built renderer, the app's services behind the test bridge, and one page. */
export interface DesktopRun {
  stack: Stack;
  app: RunningApp;
  browser: Browser;
  /** Not navigated yet: add init scripts first, then `signIn`. */
  page: Page;
  /** The built renderer, for a second app (`startApp(run.rendererDir)`). */
  rendererDir: string;
  close(): Promise<void>;
}

export async function startDesktopRun(
  opts: {
    viewport?: { width: number; height: number };
    app?: Parameters<typeof startApp>[1];
    /** Let the page use the clipboard (Copy buttons). */
    clipboard?: boolean;
    /** Runs against the stack before the app starts (extra accounts, policies…). */
    prepare?: (stack: Stack) => Promise<void>;
  } = {},
): Promise<DesktopRun> {
  const [stack, renderer] = await Promise.all([startE2eStack(), buildRenderer()]);
  await opts.prepare?.(stack);
  const app = await startApp(renderer.dir, opts.app);
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1180, height: 760 } });
  if (opts.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(app.bridge.pageUrl).origin });
  const page = await context.newPage();
  return {
    stack,
    app,
    browser,
    page,
    rendererDir: renderer.dir,
    async close() {
      await browser.close();
      await app.close();
      await renderer.close();
      await stack.close();
    },
  };
}

/** Opens the app, signs in as the stack's admin and waits for the accounts list. */
export async function signIn(run: DesktopRun): Promise<void> {
  await run.page.goto(run.app.bridge.pageUrl);
  await submitSignIn(run.page, run.stack);
  await run.page.getByRole('list', { name: `Accounts on ${run.stack.resource}` }).waitFor();
}
