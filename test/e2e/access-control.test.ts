/**
 * The desktop app with the access rules on, in real Chromium against the real stack:
 * a member with TOTP signs in through the MFA step, starts an account that requires MFA
 * (the Access dialog asks for a code), and asks for an account that requires approval
 * (the dialog waits, showing the request's status) while an admin, in a second app
 * window, denies one request and approves the next from the Approvals view.
 */
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, currentUser, setUpAccessScenario, TotpCodes } from '../integration/access-control.helpers.ts';
import { buildRenderer, chromiumMissing, launchChromium, screenshot, startApp, submitSignIn, type RunningApp } from './harness.ts';
import { startE2eStack, type Stack } from './stack.ts';

const skipReason = chromiumMissing;
if (skipReason) console.info(`[e2e] ${import.meta.url.split('/').pop()} skipped: ${skipReason}`);

async function post<T>(domain: string, path: string, body: unknown, token?: string): Promise<T> {
  const res = await request(`${domain}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.body.json()) as T & { error?: { message: string } };
  if (res.statusCode >= 400) throw new Error(`${path} → ${res.statusCode}: ${json.error?.message}`);
  return json;
}

describe.skipIf(skipReason)(`desktop MFA and approvals${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let stack: Stack;
  let renderer: Awaited<ReturnType<typeof buildRenderer>>;
  let aliceApp: RunningApp;
  let adminApp: RunningApp;
  let browser: Browser;
  let alice: Page;
  let admin: Page;
  let codes: TotpCodes;

  beforeAll(async () => {
    [stack, renderer] = await Promise.all([startE2eStack(), buildRenderer()]);
    await setUpAccessScenario(stack);
    // Alice turns on TOTP through the API (the CLI test covers `gatehouse mfa enroll`)
    const login = await post<{ accessToken: string }>(stack.domain, '/auth/login', ALICE);
    const enrollment = await post<{ secret: string }>(stack.domain, '/me/mfa/totp/enroll', {}, login.accessToken);
    codes = new TotpCodes(enrollment.secret);
    await post(stack.domain, '/me/mfa/totp/confirm', { code: await codes.next() }, login.accessToken);

    [aliceApp, adminApp] = await Promise.all([startApp(renderer.dir), startApp(renderer.dir)]);
    browser = await launchChromium();
    alice = await (await browser.newContext({ viewport: { width: 1180, height: 760 } })).newPage();
    admin = await (await browser.newContext({ viewport: { width: 1180, height: 760 } })).newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await aliceApp?.close();
    await adminApp?.close();
    await renderer?.close();
    await stack?.close();
  });

  async function signIn(page: Page, app: RunningApp, email: string, password: string) {
    await page.goto(app.bridge.pageUrl);
    await submitSignIn(page, { domain: stack.domain, email, password });
  }

  it('sign-in asks for the second factor; a wrong code is refused, the right one signs in', async () => {
    await signIn(alice, aliceApp, ALICE.email, ALICE.password);
    await alice.getByRole('heading', { name: 'Verify it’s you' }).waitFor();
    expect(await alice.getByRole('radio', { name: 'Authenticator app' }).isChecked()).toBe(true);
    await screenshot(alice, '10-sign-in-mfa');

    await alice.getByLabel('Authentication code').fill('000000');
    await alice.getByRole('button', { name: 'Verify' }).click();
    const alert = alice.getByRole('alert');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('GATEHOUSE_ERR_MFA_INVALID');

    await alice.getByLabel('Authentication code').fill(await codes.next());
    await alice.getByRole('button', { name: 'Verify' }).click();
    await alice.getByRole('list', { name: `Accounts on ${stack.resource}` }).waitFor();
    const mfaRow = alice.getByRole('listitem', { name: `ro-mfa on ${stack.resource}` });
    expect(await mfaRow.textContent()).toContain('MFA');
    expect(await alice.getByRole('listitem', { name: `ro-approval on ${stack.resource}` }).textContent()).toContain('Approval');
  });

  it('Access on an account that requires MFA asks for a code, then the session works', async () => {
    await alice
      .getByRole('listitem', { name: `ro-mfa on ${stack.resource}` })
      .getByRole('button', { name: 'Access' })
      .click();
    const dialog = alice.getByRole('dialog', { name: `Access ${stack.resource} as ro-mfa` });
    await dialog.getByRole('button', { name: 'Start access' }).click();
    await dialog
      .getByLabel('Authentication code')
      .waitFor({ timeout: 10_000 })
      .catch(async (err: Error) => {
        throw new Error(`${err.message}\ndialog shows: ${await dialog.textContent()}`);
      });
    await screenshot(alice, '11-access-mfa');
    await dialog.getByLabel('Authentication code').fill(await codes.next());
    await dialog.getByRole('button', { name: 'Verify and start' }).click();
    await alice.getByTestId('session-state').filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    expect(await currentUser(await alice.getByLabel('Connection URL').inputValue())).toBe(stack.roles.readonly.username);
    await alice.getByRole('button', { name: 'Stop' }).click();
    await alice.getByTestId('session-state').filter({ hasText: 'Stopped' }).waitFor({ timeout: 10_000 });
  });

  async function requestApproval(reason: string) {
    await alice.getByRole('button', { name: 'Accounts' }).click();
    await alice
      .getByRole('listitem', { name: `ro-approval on ${stack.resource}` })
      .getByRole('button', { name: 'Access' })
      .click();
    const dialog = alice.getByRole('dialog', { name: `Access ${stack.resource} as ro-approval` });
    await dialog.getByLabel('Reason').fill(reason);
    await dialog.getByRole('button', { name: 'Request access' }).click();
    await dialog.getByText('Waiting for approval…').waitFor();
    expect(await dialog.getByTestId('request-status').textContent()).toBe('pending');
    return dialog;
  }

  async function openApprovals(reason: string) {
    await admin.getByRole('button', { name: 'Approvals' }).click();
    const item = admin.getByRole('listitem', { name: `Request from ${ALICE.email} for ro-approval on ${stack.resource}` });
    await item.filter({ hasText: reason }).waitFor({ timeout: 10_000 });
    return item;
  }

  it("a denied request shows the approver's comment in the Access dialog", async () => {
    const dialog = await requestApproval('ticket 41');
    await screenshot(alice, '12-waiting-for-approval');

    await signIn(admin, adminApp, stack.email, stack.password);
    const item = await openApprovals('ticket 41');
    await screenshot(admin, '13-approvals');
    await item.getByLabel('Comment').fill('not during the freeze');
    await item.getByRole('button', { name: 'Deny' }).click();
    await item.waitFor({ state: 'detached' });

    await dialog.getByText(`Denied by ${stack.email}: “not during the freeze”`).waitFor({ timeout: 10_000 });
    await screenshot(alice, '14-request-denied');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('an approved request starts the session from the waiting dialog', async () => {
    await requestApproval('ticket 42: fix an order');
    const item = await openApprovals('ticket 42');
    await item.getByRole('button', { name: 'Approve' }).click();
    await admin.getByText('No access requests are waiting for you.').waitFor();

    await alice.getByTestId('session-state').filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    expect(await alice.getByRole('dialog').count()).toBe(0);
    expect(await currentUser(await alice.getByLabel('Connection URL').inputValue())).toBe(stack.roles.readonly.username);
    await screenshot(alice, '15-approved-session');
  });
});
