/**
 * The sign-in screen without a reachable server: it is interactive within a second of
 * loading, and a wrong address says the server is unreachable.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildRenderer, chromiumMissing, launchChromium, readyAtMs, screenshot, startApp, type RunningApp } from './harness.ts';

describe.skipIf(chromiumMissing)(`desktop sign-in without a server${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let renderer: Awaited<ReturnType<typeof buildRenderer>>;
  let app: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    renderer = await buildRenderer();
    app = await startApp(renderer.dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await renderer?.close();
  });

  it('is interactive within 1 s of loading, and says when the server is unreachable', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    await page.goto(app.bridge.pageUrl);
    const readyAt = await readyAtMs(page);
    console.info(`[e2e] sign-in screen interactive ${readyAt} ms after navigation start`);
    expect(readyAt).toBeLessThan(1000);
    await expect(page.getByLabel('Email').isEditable()).resolves.toBe(true);
    await screenshot(page, '01-sign-in');

    await page.getByLabel('Server URL').fill(`http://127.0.0.1:${closedPort}`);
    await page.getByLabel('Email').fill('someone@example.com');
    await page.getByLabel('Password').fill('whatever');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('GATEHOUSE_ERR_SERVER_UNREACHABLE');
    expect(await alert.textContent()).toMatch(/is unreachable.*check the address/);
    await screenshot(page, '02-sign-in-unreachable');
    await page.close();
  });
});
