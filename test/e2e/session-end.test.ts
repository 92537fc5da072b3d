/**
 * How a session ends when the person did not stop it, and a port that is taken, in real
 * Chromium against the real stack: a custom 12-second duration counts down to 0:00, the
 * panel says the session expired, a toast says so, and the node-postgres client connected
 * through it is closed with SQLSTATE 57P01; then the account's remembered port is taken by
 * another program, Access says which port and how to pick another (no session is left
 * half-started), and another port works.
 */
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, screenshot, type RunningApp } from './harness.ts';
import { signIn, startDesktopRun, type DesktopRun, type Stack } from './stack.ts';
import { currentUser } from '../integration/access-control.helpers.ts';

const skipReason = chromiumMissing;
if (skipReason) console.info(`[e2e] ${import.meta.url.split('/').pop()} skipped: ${skipReason}`);

const SECONDS = 12;

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
const closeServer = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe.skipIf(skipReason)(`session expiry and a port in use${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let run: DesktopRun;
  let stack: Stack;
  let app: RunningApp;
  let page: Page;

  beforeAll(async () => {
    run = await startDesktopRun();
    ({ stack, app, page } = run);
    await signIn(run);
  }, 120_000);
  afterAll(async () => {
    await run?.close();
  });

  const row = (account: string) => page.getByRole('listitem', { name: `${account} on ${stack.resource}` });
  let expiredPort = 0;

  it(`a custom ${SECONDS}s session counts down to 0:00, shows as expired with a toast, and its client gets 57P01`, async () => {
    await row('readonly').getByRole('button', { name: 'Access' }).click();
    const dialog = page.getByRole('dialog', { name: `Access ${stack.resource} as readonly` });
    await dialog.getByRole('combobox', { name: 'Duration' }).selectOption('custom');
    await dialog.getByLabel('Custom duration').fill(`${SECONDS}s`);
    await screenshot(page, '20-custom-duration');
    await dialog.getByRole('button', { name: 'Start access' }).click();
    await page.getByTestId('session-state').filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });

    // every value the panel's countdown shows, as it changes
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __countdown: string[] }).__countdown = seen;
      const read = () => {
        const t = document.querySelector('.panel .time-left')?.textContent;
        if (t && seen[seen.length - 1] !== t) seen.push(t);
      };
      read();
      new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    const url = await page.getByLabel('Connection URL').inputValue();
    expiredPort = Number(new URL(url).port);
    const client = new pg.Client({ connectionString: url, application_name: 'e2e-expiry' });
    const closed = new Promise<Error & { code?: string }>((resolve) => client.on('error', resolve));
    await client.connect();
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);

    await page
      .getByTestId('session-state')
      .filter({ hasText: 'Expired' })
      .waitFor({ timeout: (SECONDS + 10) * 1000 });
    const notice = page.getByTestId('ended-notice');
    expect(await notice.textContent()).toMatch(
      /^This session expired at .+; its connections were closed and the local port no longer accepts new ones\. To keep working, click Access again\.$/,
    );
    await page.getByText(`Access to ${stack.resource} / readonly expired`).waitFor({ timeout: 5_000 });
    expect(await page.locator('.toast.expired').textContent()).toContain('The session reached its end time; its connections were closed.');
    await screenshot(page, '21-session-expired');

    const err = await Promise.race([
      closed,
      client.query('SELECT 1').then(
        () => Object.assign(new Error('query succeeded'), { code: 'none' }),
        (e: Error & { code?: string }) => e,
      ),
    ]);
    expect(err.code).toBe('57P01');
    await client.end().catch(() => undefined);

    const seen = await page.evaluate(() => (window as unknown as { __countdown: string[] }).__countdown);
    expect(seen.at(-1)).toBe('0:00 left');
    const secs = seen.map((t) => {
      const [m, s] = t.replace(' left', '').split(':').map(Number);
      return m * 60 + s;
    });
    expect(secs.length).toBeGreaterThanOrEqual(SECONDS - 4); // ticked every second, not only at the end
    for (let i = 1; i < secs.length; i++) expect(secs[i] - secs[i - 1]).toBe(-1);
    // the panel no longer offers the dead URL's actions
    expect(await page.getByRole('button', { name: 'Open in psql' }).isDisabled()).toBe(true);
  }, 60_000);

  it('a taken port: Access names it and says how to pick another; nothing is left half-started; another port works', async () => {
    const blocker = await listen(expiredPort);
    try {
      const before = await app.services.api['sessions.list']();
      const historyBefore = (await app.services.api['history.list']({ limit: 50 })).length;

      await page.getByRole('button', { name: 'Accounts' }).click();
      await row('readonly').getByRole('button', { name: 'Access' }).click();
      const dialog = page.getByRole('dialog', { name: `Access ${stack.resource} as readonly` });
      const portField = dialog.getByLabel('Local port');
      expect(await portField.inputValue()).toBe(String(expiredPort)); // the remembered port
      await dialog.getByRole('combobox', { name: 'Duration' }).selectOption('15m');
      await dialog.getByRole('button', { name: 'Start access' }).click();

      const alert = dialog.getByRole('alert');
      await alert.waitFor({ timeout: 10_000 });
      expect(await alert.getAttribute('data-code')).toBe('GATEHOUSE_ERR_PORT_IN_USE');
      expect(await alert.textContent()).toBe(
        `Port ${expiredPort} is already in use by another program. Enter another number in “Local port” (it is kept for next time), or stop the program using port ${expiredPort}.`,
      );
      expect(await portField.getAttribute('aria-invalid')).toBe('true');
      expect(await portField.evaluate((el) => el === document.activeElement)).toBe(true);
      await screenshot(page, '22-port-in-use');

      // nothing half-started: not here, not in the UI, not on the server
      const after = await app.services.api['sessions.list']();
      expect(after.map((s) => s.sessionId)).toEqual(before.map((s) => s.sessionId));
      expect(after.filter((s) => s.state !== 'ended')).toEqual([]);
      expect(
        await page
          .getByRole('button', { name: /^Sessions/ })
          .getByLabel(/active$/)
          .count(),
      ).toBe(0);
      expect((await app.services.api['history.list']({ limit: 50 })).length).toBe(historyBefore);

      // picking another port, as the message says
      const free = await listen(0);
      const otherPort = (free.address() as { port: number }).port;
      await closeServer(free);
      await portField.fill(String(otherPort));
      await dialog.getByRole('button', { name: 'Start access' }).click();
      await page.getByTestId('session-state').filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
      const url = await page.getByLabel('Connection URL').inputValue();
      expect(new URL(url).port).toBe(String(otherPort));
      expect(await currentUser(url)).toBe(stack.roles.readonly.username);
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByTestId('session-state').filter({ hasText: 'Stopped' }).waitFor({ timeout: 10_000 });
      // and the new port is the one remembered for next time
      await page.getByRole('button', { name: 'Accounts' }).click();
      await row('readonly').getByRole('button', { name: 'Access' }).click();
      expect(await page.getByRole('dialog').getByLabel('Local port').inputValue()).toBe(String(otherPort));
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    } finally {
      await closeServer(blocker);
    }
  }, 45_000);
});
