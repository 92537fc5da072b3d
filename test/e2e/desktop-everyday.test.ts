/**
 * Issue 14, the desktop renderer in real Chromium against the real stack: the Access dialog
 * (focus trap, Escape, durations within the policy, no custom duration carried over), "All
 * sessions" for an admin (user column, filters, search, paging past 50, connect events,
 * redacted parameters), "My requests" and the approver's badge and notification, the
 * profile page with in-app TOTP enrollment, the 760 px window, axe-core on every screen,
 * and dark mode. Screenshots go to docs/screenshots/desktop-*.png.
 */
import pg from 'pg';
import type { BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../proxy-core/src/tls/certs.ts';
import { ALICE, inviteUser, setUpAccessScenario, TotpCodes } from '../integration/access-control.helpers.ts';
import { axeViolations } from './console-stack.ts';
import { chromiumMissing, docShot, startApp, submitSignIn, type RunningApp } from './harness.ts';
import { signIn, startDesktopRun, type DesktopRun, type Stack } from './stack.ts';

const skipReason = chromiumMissing;
if (skipReason) console.info(`[e2e] ${import.meta.url.split('/').pop()} skipped: ${skipReason}`);

async function asUser<T>(domain: string, method: string, path: string, body: unknown, token?: string): Promise<T> {
  const res = await request(`${domain}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.body.json()) as T & { error?: { message: string } };
  if (res.statusCode >= 400) throw new Error(`${path} → ${res.statusCode}: ${json.error?.message}`);
  return json;
}

async function expectNoAxeViolations(page: Page, screen: string): Promise<void> {
  expect(await axeViolations(page), screen).toEqual([]);
}

describe.skipIf(skipReason)(`issue 14: desktop everyday use${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let run: DesktopRun;
  let stack: Stack;
  let admin: Page;
  let aliceApp: RunningApp;
  let alice: Page;
  let aliceContext: BrowserContext;
  let aliceToken: string;

  beforeAll(async () => {
    run = await startDesktopRun({
      clipboard: true,
      prepare: async (s) => {
        const { aliceId } = await setUpAccessScenario(s);
        // Alice may also use readonly and readwrite, for at most an hour
        const { accounts } = await s.api<{ accounts: { id: string; name: string }[] }>('GET', `/projects/${s.projectId}/accounts`);
        const plain = accounts.filter((a) => a.name === 'readonly' || a.name === 'readwrite').map((a) => a.id);
        await s.api('POST', `/projects/${s.projectId}/policies`, { name: 'alice-plain', users: [aliceId], accounts: plain, maxDurationSeconds: 3600 });
        aliceToken = (await asUser<{ accessToken: string }>(s.domain, 'POST', '/auth/login', ALICE)).accessToken;
        // 55 sessions of the admin's and 3 of Alice's, some ended (and one more, with a connection, below): "All sessions" pages past 50
        const { publicKeyPem } = generateKeyPair();
        const make = (token: string | undefined, account: string) =>
          token
            ? asUser<{ session: { id: string } }>(
                s.domain,
                'POST',
                '/sessions',
                { projectId: s.projectId, resource: s.resource, account, duration: 600, publicKeyPem },
                token,
              )
            : s.api<{ session: { id: string } }>('POST', '/sessions', { projectId: s.projectId, resource: s.resource, account, duration: 600, publicKeyPem });
        for (let batch = 0; batch < 55; batch += 11) {
          await Promise.all(
            Array.from({ length: 11 }, async (_, k) => {
              const i = batch + k;
              const { session } = await make(undefined, i % 2 ? 'readonly' : 'readwrite');
              if (i % 3 === 0) await s.api('POST', `/sessions/${session.id}/end`, {});
            }),
          );
        }
        await Promise.all([0, 1, 2].map(() => make(aliceToken, 'readonly')));
      },
    });
    ({ stack, page: admin } = run);
    await signIn(run);
    // a session with a connection and a parameterized statement, early: the gateway's events take a while to land
    const status = await run.app.services.api['sessions.start']({ projectId: stack.projectId, resource: stack.resource, account: 'readonly', duration: '15m' });
    const client = new pg.Client({ connectionString: status.url, application_name: 'e2e-report' });
    await client.connect();
    await client.query('SELECT $1::int AS n', [42]);
    await client.end();
    await run.app.services.api['sessions.stop']({ sessionId: status.sessionId });
    aliceApp = await startApp(run.rendererDir);
    aliceContext = await run.browser.newContext({ viewport: { width: 1180, height: 760 } });
    alice = await aliceContext.newPage();
  }, 180_000);
  afterAll(async () => {
    await aliceContext?.close();
    await aliceApp?.close();
    await run?.close();
  });

  it('item 5: the Access dialog keeps focus inside, closes on Escape, offers only what the policy allows, forgets a custom duration', async () => {
    await alice.goto(aliceApp.bridge.pageUrl);
    await submitSignIn(alice, { domain: stack.domain, ...ALICE });
    await alice.getByRole('list', { name: `Accounts on ${stack.resource}` }).waitFor();
    await alice
      .getByRole('listitem', { name: `readonly on ${stack.resource}` })
      .getByRole('button', { name: 'Access' })
      .click();
    const dialog = alice.getByRole('dialog', { name: `Access ${stack.resource} as readonly` });
    await dialog.waitFor();
    // the policy allows an hour: 4 h and 8 h are not offered
    const offered = await dialog
      .getByLabel(/^Duration/)
      .locator('option')
      .allTextContents();
    expect(offered).toEqual(['15 minutes', '1 hour', 'Custom…']);
    expect(await dialog.textContent()).toContain('at most 1 h for this account');
    await dialog.getByLabel(/^Duration/).selectOption('custom');
    await dialog.getByLabel('Custom duration').fill('2h');
    await dialog.getByRole('button', { name: 'Start access' }).click();
    await dialog.getByText("At most 1 h for this account (its policy's maximum).").waitFor();
    await docShot(alice, 'access-dialog');
    await expectNoAxeViolations(alice, 'access dialog');

    // Tab and Shift+Tab never leave the dialog
    for (let i = 0; i < 12; i++) {
      await alice.keyboard.press(i < 8 ? 'Tab' : 'Shift+Tab');
      expect(await alice.evaluate(() => document.activeElement?.closest('[role=dialog]') !== null)).toBe(true);
    }
    // Escape closes it even with the focus outside (on the body)
    await alice.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await alice.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // the next account starts from the default, not the custom 2h
    await alice
      .getByRole('listitem', { name: `readwrite on ${stack.resource}` })
      .getByRole('button', { name: 'Access' })
      .click();
    const next = alice.getByRole('dialog', { name: `Access ${stack.resource} as readwrite` });
    await next.waitFor();
    expect(await next.getByLabel(/^Duration/).inputValue()).toBe('1h');
    expect(await next.getByLabel('Custom duration').count()).toBe(0);
    await alice.keyboard.press('Escape');
    await next.waitFor({ state: 'detached' });
  });

  it('item 6: My requests marks the pending one; the approver gets a badge and a notification', async () => {
    // the first check of pending requests is done (what waits already is not "new")
    await admin.getByRole('button', { name: 'Approvals' }).click();
    await admin.getByText('No access requests are waiting for you.').waitFor();
    await admin.getByRole('button', { name: 'Accounts' }).click();
    await asUser(
      stack.domain,
      'POST',
      '/access-requests',
      { projectId: stack.projectId, resource: stack.resource, account: 'ro-approval', duration: '30m', reason: 'month-end report' },
      aliceToken,
    );
    // the admin (an approver) is told without opening Approvals
    await admin.getByText(`New access request from ${ALICE.email}`).waitFor({ timeout: 15_000 });
    expect(await admin.getByTestId('badge-approvals').textContent()).toBe('1');
    await docShot(admin, 'approver-badge', { keepToasts: true });

    await alice.getByRole('button', { name: /^My requests/ }).click();
    const mine = alice.getByRole('listitem', { name: `Request for ro-approval on ${stack.resource}, pending` });
    await mine.waitFor();
    expect(await mine.textContent()).toContain('month-end report');
    expect(await mine.getAttribute('class')).toContain('pending');
    await docShot(alice, 'my-requests');
    await expectNoAxeViolations(alice, 'my requests');
  });

  it('item 6: an admin sees "All sessions" with a user column, filters, search and pages past 50', async () => {
    await admin.getByRole('button', { name: 'All sessions' }).click();
    await admin.getByRole('heading', { name: 'All sessions' }).waitFor();
    const list = admin.getByRole('list', { name: 'All sessions' });
    await list.getByRole('listitem').first().waitFor();
    expect(await list.getByRole('listitem').count()).toBe(50);
    expect(await admin.getByTestId('page-info').textContent()).toBe('1–50 of 59');
    expect(await admin.locator('.history-cols').textContent()).toContain('User');
    await admin.getByRole('button', { name: 'Next' }).click();
    expect(await admin.getByTestId('page-info').textContent()).toBe('51–59 of 59');
    expect(await list.getByRole('listitem').count()).toBe(9);

    await admin.getByLabel('User').selectOption(ALICE.email);
    expect(await list.getByRole('listitem').count()).toBe(3);
    for (const text of await list.getByRole('listitem').allTextContents()) expect(text).toContain(ALICE.email);
    await admin.getByLabel('User').selectOption('');
    await admin.getByLabel('Status').selectOption('ended');
    expect(await list.getByRole('listitem').count()).toBe(20); // every third of the admin's 55, and the one beforeAll stopped
    await admin.getByLabel('Status').selectOption('');
    await admin.getByLabel('Search').fill('readwrite');
    expect(await admin.getByTestId('page-info').count()).toBe(0); // 28 fit on one page
    expect(await list.getByRole('listitem').count()).toBe(28);
    await admin.getByLabel('Search').fill('');
    await docShot(admin, 'all-sessions');
    await expectNoAxeViolations(admin, 'all sessions');
  });

  it("item 6: a session's connect events show, and the page says its parameters are redacted", async () => {
    // the session the admin ran in beforeAll (the newest of the admin's)
    await admin.getByLabel('Search').fill('readonly');
    await admin.getByLabel('User').selectOption(stack.email);
    const item = admin.locator('.history-item').first();
    for (let i = 0; i < 30; i++) {
      await item.getByRole('button').first().click();
      if (await item.getByText('SELECT $1::int AS n').isVisible()) break;
      await item.getByRole('button').first().click();
      await admin.waitForTimeout(500);
    }
    await item.getByText('SELECT $1::int AS n').waitFor({ timeout: 2_000 });
    expect(await item.locator('.conn-event').first().textContent()).toMatch(/^.*Connected · e2e-report/);
    await item.getByText('parameters redacted').waitFor();
    await item.getByRole('note').filter({ hasText: 'Statement parameters are redacted' }).waitFor();
    await docShot(admin, 'session-activity');
    await expectNoAxeViolations(admin, 'session activity');
  });

  it('item 7: the profile page enrolls an authenticator app in the app (QR code as SVG), then shows the recovery codes', async () => {
    await alice.getByRole('button', { name: 'Profile' }).click();
    await alice.getByTestId('mfa-state').filter({ hasText: 'No authenticator app yet' }).waitFor();
    await alice.getByRole('button', { name: 'Set up authenticator app' }).click();
    const qr = alice.getByRole('img', { name: 'QR code to add Gatehouse to an authenticator app' });
    await qr.waitFor();
    expect(await qr.evaluate((el) => el.tagName.toLowerCase())).toBe('svg');
    const secret = (await alice.getByTestId('totp-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await docShot(alice, 'mfa-enroll');
    await expectNoAxeViolations(alice, 'mfa enrollment');
    const codes = new TotpCodes(secret);
    await alice.getByLabel('Authentication code').fill('000000');
    await alice.getByRole('button', { name: 'Turn on' }).click();
    await alice.getByRole('alert').waitFor();
    await alice.getByLabel('Authentication code').fill(await codes.next());
    await alice.getByRole('button', { name: 'Turn on' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Save your recovery codes' });
    await dialog.waitFor();
    expect(await dialog.getByRole('listitem').count()).toBe(10);
    await docShot(alice, 'recovery-codes');
    await dialog.getByRole('button', { name: 'I saved them' }).click();
    await alice.getByTestId('mfa-state').filter({ hasText: 'Authenticator app set up · 10 recovery codes left' }).waitFor();
    await docShot(alice, 'profile');
  });

  it('item 8: at 760 px Stop and Copy stay on-screen, the focus ring is visible, axe finds nothing serious', async () => {
    await admin.setViewportSize({ width: 760, height: 640 });
    const status = await run.app.services.api['sessions.start']({
      projectId: stack.projectId,
      resource: stack.resource,
      account: 'readwrite',
      duration: '15m',
    });
    await admin.getByRole('button', { name: 'Accounts' }).click();
    const row = admin.getByRole('listitem', { name: `readwrite on ${stack.resource}` });
    await row.getByText('Active', { exact: true }).waitFor();
    await expectNoAxeViolations(admin, 'accounts with an ACTIVE tag (760 px)');
    await docShot(admin, 'accounts-760');
    await row.getByRole('button', { name: 'Open session' }).click();
    // polled, so that a failure names the state the panel showed instead
    await expect.poll(() => admin.getByTestId('session-state').first().textContent(), { timeout: 20_000 }).toBe('Ready');
    for (const name of ['Stop', 'Copy']) {
      const box = await admin.getByRole('button', { name, exact: true }).boundingBox();
      expect(box, name).not.toBeNull();
      expect(box!.x, name).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, `${name} right edge`).toBeLessThanOrEqual(760);
    }
    expect(await admin.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(760);
    await docShot(admin, 'session-760');
    await expectNoAxeViolations(admin, 'session panel (760 px)');

    // keyboard focus on the primary button: a ring outside it, not the button's own blue
    await admin.getByRole('button', { name: 'Accounts' }).click();
    await admin
      .getByRole('listitem', { name: `readonly on ${stack.resource}` })
      .getByRole('button', { name: 'Profiles' })
      .focus();
    await admin.keyboard.press('Tab');
    const ring = await admin.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const cs = getComputedStyle(el);
      return { text: el.textContent, outline: cs.outlineStyle, color: cs.outlineColor, offset: parseFloat(cs.outlineOffset), background: cs.backgroundColor };
    });
    expect(ring.text).toBe('Access');
    expect(ring.outline).toBe('solid');
    expect(ring.offset).toBeGreaterThanOrEqual(2);
    expect(ring.color).not.toBe(ring.background);
    await run.app.services.api['sessions.stop']({ sessionId: status.sessionId });
    await admin.setViewportSize({ width: 1180, height: 760 });
  });

  it('item 9: dark mode follows the OS setting, and passes axe too', async () => {
    const dark = await run.browser.newContext({ viewport: { width: 1180, height: 760 }, colorScheme: 'dark' });
    try {
      const page = await dark.newPage();
      await page.goto(run.app.bridge.pageUrl); // the same app: already signed in
      await page.getByRole('list', { name: `Accounts on ${stack.resource}` }).waitFor();
      const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      expect(background).toBe('rgb(18, 22, 31)');
      await docShot(page, 'dark-accounts');
      await expectNoAxeViolations(page, 'accounts, dark');
      await page
        .getByRole('listitem', { name: `readonly on ${stack.resource}` })
        .getByRole('button', { name: 'Access' })
        .click();
      await page.getByRole('dialog').waitFor();
      await docShot(page, 'dark-access-dialog');
      await expectNoAxeViolations(page, 'access dialog, dark');
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'All sessions' }).click();
      await page.getByRole('list', { name: 'All sessions' }).getByRole('listitem').first().waitFor();
      await docShot(page, 'dark-all-sessions');
      await expectNoAxeViolations(page, 'all sessions, dark');
    } finally {
      await dark.close();
    }
  });

  it('item 7: where the organization requires TOTP, sign-in sets it up in the app instead of sending people to a terminal', async () => {
    const bob = { email: 'bob@demo.local', password: 'bob-password-1' };
    await inviteUser(stack, bob.email, bob.password);
    await stack.api('PATCH', '/settings/mfa', { enforce: 'totp' }); // last: the admin's own next sign-in would need it too
    const bobApp = await startApp(run.rendererDir);
    const context = await run.browser.newContext({ viewport: { width: 1180, height: 760 } });
    try {
      const page = await context.newPage();
      await page.goto(bobApp.bridge.pageUrl);
      await submitSignIn(page, { domain: stack.domain, ...bob });
      await page.getByRole('heading', { name: 'Set up your authenticator' }).waitFor();
      expect(await page.getByText('gatehouse login').count()).toBe(0);
      const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
      await docShot(page, 'sign-in-enroll');
      await expectNoAxeViolations(page, 'sign-in enrollment');
      await page.getByLabel('Authentication code').fill(await new TotpCodes(secret).next());
      await page.getByRole('button', { name: 'Turn on and sign in' }).click();
      const dialog = page.getByRole('dialog', { name: 'Save your recovery codes' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'I saved them' }).click();
      await page.getByRole('heading', { name: 'Accounts' }).waitFor();
      expect(await page.locator('.me-name').textContent()).toBe(bob.email);
    } finally {
      await context.close();
      await bobApp.close();
    }
  });
});
