/**
 * Issue 11 (web console): "Open in Gatehouse". The console's `gatehouse://access?…` link,
 * delivered to the desktop app the way the Electron shell hands it over (main/electron/deep-links.ts
 * → DesktopApi.openAccessLink → the `open-access` IPC event), in a real Chromium driving the
 * real main-process services through the test bridge, against a real control plane, gateway
 * and PostgreSQL: the Access dialog opens for that account; a link for another server, for
 * an account the person may not use, or a broken one says why instead.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLink } from '../../renderer/src/console/access-command.ts';
import { chromiumMissing, submitSignIn } from './harness.ts';
import { startDesktopRun, type DesktopRun } from './stack.ts';

describe.skipIf(chromiumMissing)('issue 11: Open in Gatehouse links open the desktop app’s Access dialog', () => {
  let run: DesktopRun;
  let page: Page;
  const deliver = (url: string) => run.app.services.api.openAccessLink(url);
  const link = (account: string, domain = run.stack.domain) =>
    accessLink({ projectId: run.stack.projectId, resource: run.stack.resource, account }, '4h', domain);

  beforeAll(async () => {
    run = await startDesktopRun();
    page = run.page;
    await page.goto(run.app.bridge.pageUrl);
  }, 180_000);
  afterAll(async () => {
    await run?.close();
  });

  it('signed out: asks to sign in to the link’s server first', async () => {
    await page.getByLabel('Server URL').waitFor();
    deliver(link('readonly'));
    await page.getByRole('status').getByText('Sign in to open this account').waitFor();
    expect(await page.getByRole('status').textContent()).toContain(`Sign in to ${run.stack.domain}`);
  });

  it('signed in: the console’s link opens the Access dialog for that account', async () => {
    await submitSignIn(page, run.stack);
    await page.getByRole('list', { name: `Accounts on ${run.stack.resource}` }).waitFor();
    deliver(link('readonly'));
    const dialog = page.getByRole('dialog', { name: `Access ${run.stack.resource} as readonly` });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The other account, from the Sessions view: the app goes back to the accounts and opens it.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    const other = run.stack.accounts.find((a) => a !== 'readonly')!;
    deliver(link(other));
    await page.getByRole('dialog', { name: `Access ${run.stack.resource} as ${other}` }).waitFor();
    await page.keyboard.press('Escape');
  });

  it('refuses a link for another server than the one signed in, and says which', async () => {
    deliver(link('readonly', 'https://gatehouse.attacker.example'));
    await page.getByRole('status').getByText('This link is for https://gatehouse.attacker.example').waitFor();
    expect(await page.getByRole('status').textContent()).toContain(`You are signed in to ${run.stack.domain}`);
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it('an account the person may not use, or a broken link, gets a message, not a dialog', async () => {
    deliver(link('no-such-account'));
    await page.getByRole('status').getByText(`No access to ${run.stack.resource} / no-such-account`).waitFor();
    deliver('gatehouse://access?domain=javascript:alert(1)&projectId=p&resource=r&account=a');
    await page.getByRole('status').getByText('This Gatehouse link does not work').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
  });
});
