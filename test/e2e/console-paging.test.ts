/**
 * Issue 11 (web console): the lists that grow page from the server and render virtualized
 * rows. In Debian's Chromium against a real control plane holding 250 sessions and 130
 * project members, the Sessions and Users screens load one page, fetch the next ones as the
 * list scrolls (past the first page, down to the oldest row), keep only the visible rows in
 * the DOM, filter on the server, and pass axe.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/control/auth/passwords.ts';
import { buildConsole } from '../../server/control/console/build.ts';
import { ADMIN, call, login, startTestPlane, type TestPlane } from '../../server/control/test/helpers.ts';
import { axeViolations } from './console-stack.ts';
import { chromiumMissing, launchChromium } from './harness.ts';

const SESSIONS = 250;
const MEMBERS = 130;

let t: TestPlane;
let consoleDir: string;
let browser: Browser;
let page: Page;
let oldestSessionId = '';

/** Scrolls the list to its end until the status says `status` and the end is in view. */
async function scrollToEnd(p: Page, status: RegExp, lastRow?: string): Promise<void> {
  await expect
    .poll(
      async () => {
        await p.locator('.log-scroll').evaluate((el) => el.scrollTo(0, el.scrollHeight));
        const text = await p.getByRole('status').first().textContent();
        const seen = lastRow === undefined || (await p.locator(lastRow).count()) > 0;
        return seen ? text : `${text} (last row not in view yet)`;
      },
      { timeout: 20_000, interval: 200 },
    )
    .toMatch(status);
}

describe.skipIf(chromiumMissing)('issue 11: Sessions and Users page from the server with virtualized rows', () => {
  beforeAll(async () => {
    consoleDir = join(await mkdtemp(join(tmpdir(), 'gatehouse-console-paging-')), 'dist');
    await buildConsole(consoleDir);
    t = await startTestPlane({ consoleDir });
    const admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
    const gateway = await call(t.url, 'POST', '/api/v1/gateways', { token: admin, body: { name: 'gw', projectId: t.projectId } });
    const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: admin,
      body: { name: 'orders', gatewayId: gateway.body.gateway.id, host: '127.0.0.1', database: 'orders' },
    });
    const account = await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
      token: admin,
      body: { name: 'readonly', username: 'ro', password: 'pw-pw-pw-pw' },
    });
    const me = (await t.plane.store.users.findByEmail(ADMIN.email))!;
    const passwordHash = await hashPassword('a long enough password');
    const users = [];
    for (let i = 0; i < MEMBERS - 1; i += 1) {
      const user = await t.plane.store.users.create({
        email: `user${String(i).padStart(3, '0')}@paging.example`,
        name: `User ${i}`,
        passwordHash,
        isAdmin: false,
      });
      await t.plane.store.projects.setMember(t.projectId, user.id, i % 10 === 0 ? 'auditor' : 'member');
      users.push(user);
    }
    const start = Date.now() - 10 * 3_600_000;
    for (let i = 0; i < SESSIONS; i += 1) {
      const user = i % 2 === 0 ? me : users[i % users.length];
      const session = await t.plane.store.sessions.create(
        {
          id: randomUUID(),
          projectId: t.projectId,
          userId: user.id,
          userEmail: user.email,
          resourceId: resource.body.resource.id,
          resourceName: 'orders',
          database: 'orders',
          accountId: account.body.account.id,
          accountName: 'readonly',
          username: 'ro',
          gatewayId: gateway.body.gateway.id,
          expiresAt: new Date(Date.now() + 3_600_000),
        },
        new Date(start + i * 60_000),
      );
      if (i === 0) oldestSessionId = session.id;
    }
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1240, height: 780 } })).newPage();
    await page.goto(t.url);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (consoleDir) await rm(join(consoleDir, '..'), { recursive: true, force: true });
  });

  it('Sessions: the first page, then the next ones while scrolling, down to the oldest session', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '100 sessions loaded (more as you scroll)' }).waitFor();
    // Virtualized: a page of 100 rows, but only the ones in view are in the DOM.
    const rendered = await page.locator('[data-session]').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    expect(await page.locator(`[data-session="${oldestSessionId}"]`).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await scrollToEnd(page, new RegExp(`^${SESSIONS} sessions$`), `[data-session="${oldestSessionId}"]`);
    await page.locator(`[data-session="${oldestSessionId}"]`).waitFor();
    expect(await page.locator('[data-session]').count()).toBeLessThan(60);
    // Filters run on the server: only the admin's own sessions (every other one).
    await page.getByLabel('User', { exact: true }).fill('admin@');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').filter({ hasText: '100 sessions loaded (more as you scroll)' }).waitFor();
    expect(await page.locator('.log-scroll').evaluate((el) => el.scrollTop)).toBe(0); // new filters start at the top
    await scrollToEnd(page, new RegExp(`^${SESSIONS / 2} sessions$`), `[data-session="${oldestSessionId}"]`);
    await page.locator(`[data-session="${oldestSessionId}"]`).waitFor();
  });

  it('Sessions: the keyboard scrolls the list (the scroll area takes focus) and reaches the rows', async () => {
    await page.getByLabel('User', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').filter({ hasText: '100 sessions loaded (more as you scroll)' }).waitFor();
    await page.locator('.log-scroll').focus();
    await expect
      .poll(
        async () => {
          await page.keyboard.press('End');
          const text = await page.getByRole('status').first().textContent();
          return (await page.locator(`[data-session="${oldestSessionId}"]`).count()) > 0 ? text : 'not at the end yet';
        },
        { timeout: 20_000, interval: 300 },
      )
      .toBe(`${SESSIONS} sessions`);
    await page.locator(`[data-session="${oldestSessionId}"]`).waitFor();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.closest('[data-session]')?.getAttribute('data-session'));
    expect(focused).toBeTruthy();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Session log/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/sessions/${focused}`);
  });

  it('Users: members page from the server as the list scrolls, and filter by role on the server', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '100 members loaded (more as you scroll)' }).waitFor();
    expect(await page.locator('[data-user]').count()).toBeLessThan(60);
    expect(await axeViolations(page)).toEqual([]);
    await scrollToEnd(page, new RegExp(`^${MEMBERS} members$`), '[data-user="user128@paging.example"]');
    await page.locator('[data-user="user128@paging.example"]').waitFor();
    await page.getByRole('search', { name: 'Filter members' }).getByRole('combobox').first().selectOption('auditor');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^13 members$/ })
      .waitFor();
    expect(await page.getByRole('combobox', { name: /^Role of / }).evaluateAll((els) => els.every((e) => (e as HTMLSelectElement).value === 'auditor'))).toBe(
      true,
    );
  });
});
