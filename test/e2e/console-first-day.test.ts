/**
 * Issue 11 (web console): the first day of an admin, in Debian's Chromium against a real
 * control plane, gateway and PostgreSQL, from an empty bootstrap. The admin adds a gateway
 * and starts it with the copied command, adds a resource and an account, checks the connection
 * (a mistyped password shows the database's refusal; the right one connects), invites a user who
 * accepts the link, gives them a policy; the user copies the CLI command from Access, runs
 * it and psql works; the admin watches the session and its statements live, revokes it and
 * the user's connection ends with 57P01. Then the auditor's and the member's views. Every
 * screen passes axe-core (no serious/critical violations), never trips the CSP, and is
 * photographed into docs/screenshots.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, REPO_ROOT } from './harness.ts';
import { axeViolations, shot, startBin, startConsoleStack, type ConsoleStack } from './console-stack.ts';

const execFileP = promisify(execFile);
const CLI = join(REPO_ROOT, 'bin', 'gatehouse.mjs');
const BOB = { email: 'bob@example.com', password: 'bob password 1', name: 'Bob' };
const AUDREY = { email: 'audrey@example.com', password: 'audrey password 1', name: 'Audrey' };

let stack: ConsoleStack;
let browser: Browser;
let admin: Page;
let cliHome: string;
const cspViolations: string[] = [];

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1240, height: 780 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.domain });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
  });
  return { context, page };
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(stack.domain);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

async function go(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
}

/** Axe on the current screen; a screenshot when named. */
async function check(page: Page, name?: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  if (name) await shot(page, name);
}

async function copied(page: Page, copyFieldLabel: string): Promise<string> {
  const field = page.getByRole('textbox', { name: copyFieldLabel });
  await field.locator('xpath=..').getByRole('button', { name: 'Copy' }).click();
  await field.locator('xpath=..').getByRole('button', { name: 'Copied' }).waitFor();
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  expect(clip).toBe(await field.inputValue());
  return clip;
}

function cli(args: string[]) {
  return execFileP(process.execPath, [CLI, ...args], {
    env: { ...process.env, GATEHOUSE_HOME: cliHome, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' },
  });
}

/** Shell-like split of a copied command line (the console quotes with '…' only when needed). */
function words(command: string): string[] {
  return [...command.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]));
}

describe.skipIf(chromiumMissing)(
  'issue 11: the web console, first day from an empty bootstrap',
  () => {
    beforeAll(async () => {
      [stack, browser] = await Promise.all([startConsoleStack(), launchChromium()]);
      cliHome = await mkdtemp(join(tmpdir(), 'gatehouse-console-cli-'));
      admin = (await newPage()).page;
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await stack?.close();
      if (cliHome) await rm(cliHome, { recursive: true, force: true });
    });

    it('the admin signs in (sign-in page passes axe) and lands on an empty Gateways screen', async () => {
      await admin.goto(stack.domain);
      await admin.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
      await check(admin, 'sign-in');
      await admin.getByLabel('Email').fill(stack.email);
      await admin.getByLabel('Password').fill('wrong password');
      await admin.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => admin.getByRole('alert').textContent()).toBe('Wrong email or password.');
      await admin.getByLabel('Password').fill(stack.password);
      await admin.getByRole('button', { name: 'Sign in' }).click();
      await admin.getByRole('heading', { name: 'Gateways' }).waitFor();
      await admin.getByText('No gateway yet').waitFor();
      // The access token lives in memory only: nothing readable holds a token.
      expect(await admin.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toMatch(/ghr_|eyJ/);
      expect(await admin.evaluate(() => document.cookie)).not.toContain('gatehouse_refresh');
      // A reload keeps the admin signed in (the HttpOnly refresh cookie).
      await admin.reload();
      await admin.getByRole('heading', { name: 'Gateways' }).waitFor();
    });

    it('Add gateway shows the exact start command; running the copied command turns the row connected live', async () => {
      await admin.getByRole('button', { name: 'Add gateway' }).click();
      const dialog = admin.getByRole('dialog', { name: 'Add gateway' });
      await dialog.getByLabel('Name').fill('eu-west-1');
      await dialog.getByRole('button', { name: 'Create' }).click();
      await admin.getByRole('dialog', { name: 'Start eu-west-1' }).waitFor();
      const command = await copied(admin, 'Start command');
      expect(command).toMatch(new RegExp(`^npx gatehouse-gateway start --domain ${stack.domain.replace(/[.:/]/g, '\\$&')} --token ghe_[A-Za-z0-9_-]+$`));
      await check(admin, 'add-gateway');
      const row = admin.locator('tr[data-gateway="eu-west-1"]');
      expect(await row.textContent()).toContain('waiting to enroll');

      const [npx, bin, ...args] = words(command);
      expect([npx, bin]).toEqual(['npx', 'gatehouse-gateway']);
      const gwDir = await mkdtemp(join(tmpdir(), 'gatehouse-console-gw-'));
      stack.adopt(startBin('gatehouse-gateway.mjs', args, { cwd: gwDir }));
      await row.getByText('connected', { exact: true }).waitFor({ timeout: 30_000 });
      await admin.getByRole('button', { name: 'Done' }).click();
      await check(admin, 'gateways');
    });

    it('adds a resource and an account on it (the password is write-only)', async () => {
      await go(admin, 'Resources');
      await admin.getByRole('button', { name: 'Add resource' }).click();
      const d = admin.getByRole('dialog', { name: 'Add resource' });
      await d.getByLabel('Name').fill('shop');
      await expect.poll(() => d.getByLabel('Gateway').inputValue()).not.toBe('');
      await d.getByLabel('Host').fill('127.0.0.1');
      await d.getByLabel('Port').fill(String(stack.pg.port));
      await d.getByLabel('Database').fill('shop');
      await d.getByLabel('Use TLS').uncheck();
      await check(admin, 'add-resource');
      await d.getByRole('button', { name: 'Add resource' }).click();
      await admin.getByRole('link', { name: 'shop' }).click();
      await admin.getByRole('heading', { name: 'shop' }).waitFor();
      await admin.getByRole('button', { name: 'Add account' }).click();
      const a = admin.getByRole('dialog', { name: 'Add account' });
      await a.getByLabel('Name').fill('readonly');
      await a.getByLabel('Description').fill('SELECT on every table');
      await a.getByLabel('Database user').fill(stack.roles.readonly.username);
      // a typo in the password, as happens: Check connection shows the database's own refusal
      await a.getByLabel('Password', { exact: true }).fill(`${stack.roles.readonly.password}-typo`);
      await a.getByRole('button', { name: 'Add account' }).click();
      const row = admin.locator('tr[data-account="readonly"]');
      await row.waitFor();
      const checkConnection = async () => {
        await row.getByRole('button', { name: 'Check connection of readonly' }).click();
        const creds = admin.getByRole('dialog', { name: 'Credentials of readonly' });
        const result = creds.locator('[data-check-result]');
        await result.locator('p.ok, p.error').waitFor({ timeout: 30_000 });
        return { creds, text: (await result.textContent()) ?? '' };
      };
      const failed = await checkConnection();
      expect(failed.text).toContain('28P01');
      await check(admin, 'check-connection-failed');
      await failed.creds.getByRole('button', { name: 'Close' }).click();

      // the password field of Edit starts empty (write-only); the right one fixes the check
      await row.getByRole('button', { name: 'Edit readonly' }).click();
      const edit = admin.getByRole('dialog', { name: 'Edit readonly' });
      expect(await edit.getByLabel('New password (leave empty to keep)').inputValue()).toBe('');
      await edit.getByLabel('New password (leave empty to keep)').fill(stack.roles.readonly.password);
      await edit.getByRole('button', { name: 'Save' }).click();
      await edit.waitFor({ state: 'detached' });
      const ok = await checkConnection();
      expect(ok.text).toMatch(/^Connected as the account in \d+ ms/);
      await check(admin, 'check-connection');
      await ok.creds.getByRole('button', { name: 'Close' }).click();
      expect(await admin.content()).not.toContain(stack.roles.readonly.password);
      await check(admin, 'resource');
    });

    it('invites Bob, who opens the link, sets a password and is signed in', async () => {
      await go(admin, 'Users');
      await admin.getByRole('button', { name: 'Invite user' }).click();
      const d = admin.getByRole('dialog', { name: 'Invite user' });
      await d.getByLabel('Email').fill(BOB.email);
      await d.getByRole('button', { name: 'Create invitation' }).click();
      const link = await copied(admin, 'Invitation link');
      expect(link).toMatch(new RegExp(`^${stack.domain.replace(/[.:/]/g, '\\$&')}/accept-invitation#code=ghi_`));
      await check(admin, 'invite');
      await d.getByRole('button', { name: 'Done' }).click();

      const { page: bob } = await newPage();
      await bob.goto(link);
      await bob.getByRole('heading', { name: 'Join Gatehouse' }).waitFor();
      await check(bob, 'accept-invitation');
      await bob.getByLabel('Your name').fill(BOB.name);
      await bob.getByLabel('Password (at least 8 characters)').fill(BOB.password);
      await bob.getByLabel('Repeat password').fill(BOB.password);
      await bob.getByRole('button', { name: 'Create account' }).click();
      await bob.getByRole('heading', { name: 'My access' }).waitFor();
      await bob.getByText('No account yet').waitFor();
      expect(new URL(bob.url()).hash).toBe(''); // the code left the address bar
      await bob.context().close();
      await go(admin, 'Policies');
      await go(admin, 'Users');
      await admin.locator(`[data-user="${BOB.email}"]`).waitFor();
      await check(admin, 'users');
    });

    it('gives Bob a policy; Bob copies the CLI command from Access, runs it, and psql works', async () => {
      await go(admin, 'Policies');
      await admin.getByRole('button', { name: 'Add policy' }).click();
      const d = admin.getByRole('dialog', { name: 'Add policy' });
      await d.getByLabel('Name', { exact: true }).fill('bob-readonly');
      await d.getByRole('group', { name: 'Users' }).getByLabel(BOB.email).check();
      await d.getByRole('group', { name: 'Accounts' }).getByLabel('shop / readonly').check();
      await d.getByLabel('Longest session (hours)').fill('2');
      await check(admin, 'add-policy');
      await d.getByRole('button', { name: 'Add policy' }).click();
      await admin.getByRole('cell', { name: 'bob-readonly', exact: true }).waitFor();
      await check(admin, 'policies');

      const { page: bob } = await newPage();
      await signIn(bob, BOB.email, BOB.password);
      await bob.getByRole('button', { name: 'Access shop as readonly' }).click();
      const dialog = bob.getByRole('dialog', { name: 'Access shop as readonly' });
      const command = await copied(bob, 'Command line (after gatehouse login)');
      expect(command).toBe(`gatehouse db access --resource shop --account readonly --project-id ${stack.projectId} --duration 1h --domain ${stack.domain}`);
      const link = await dialog.getByRole('link', { name: 'Open in Gatehouse' }).getAttribute('href');
      expect(link).toBe(
        `gatehouse://access?${new URLSearchParams({ domain: stack.domain, projectId: stack.projectId, resource: 'shop', account: 'readonly', duration: '1h' })}`,
      );
      await check(bob, 'access');
      await bob.context().close();

      await cli(['login', '--domain', stack.domain, '--email', BOB.email, `--password=${BOB.password}`]);
      const [gatehouse, ...args] = words(command);
      expect(gatehouse).toBe('gatehouse');
      bobAccess = startBin('gatehouse.mjs', [...args, '--json'], { env: { GATEHOUSE_HOME: cliHome, GATEHOUSE_SECRET_STORE: 'file' } });
      stack.adopt(bobAccess);
      const ready = await waitReady(bobAccess);
      bobUrl = ready.url;
      sessionId = ready.sessionId;
      const { stdout } = await execFileP('psql', [bobUrl, '-At', '-c', 'select count(*) > 0 from customers']);
      expect(stdout.trim()).toBe('t');
    });

    it('the admin sees the session live with its statements, revokes it, and the held connection ends with 57P01', async () => {
      const client = new pg.Client({ connectionString: bobUrl, application_name: 'bob-psql-like' });
      const closed = new Promise<Error & { code?: string }>((resolve) => client.on('error', resolve));
      await client.connect();
      await client.query("select name from customers where email like '%@example.com' limit 3");

      await go(admin, 'Sessions');
      const row = admin.locator(`[data-session="${sessionId}"]`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.textContent()).toContain(BOB.email);
      await expect.poll(async () => Number(await row.getByRole('cell').nth(7).textContent()), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      await check(admin, 'sessions');
      await row.getByRole('link', { name: 'shop / readonly' }).click();
      await admin.getByRole('heading', { name: /^Session log/ }).waitFor();
      await admin.locator('.log-row', { hasText: 'select count(*) > 0 from customers' }).first().waitFor();
      // A statement opens in full (the row shows one line), from the mouse or the keyboard.
      await admin.getByRole('button', { name: /^select name from customers where email like/ }).click();
      expect(await admin.getByTestId('event-sql').textContent()).toBe("select name from customers where email like '%@example.com' limit 3");
      expect(await admin.getByRole('region', { name: 'Event details' }).textContent()).toContain('SELECT 3 · 3 rows');
      // Live: a statement run now appears without reloading.
      await client.query('select 42 as live_marker');
      await admin.locator('.log-row', { hasText: 'select 42 as live_marker' }).waitFor({ timeout: 10_000 });
      await admin.getByLabel('Search this session').fill('live_marker');
      await admin.getByRole('button', { name: 'Search', exact: true }).click();
      await expect.poll(() => admin.locator('.log-scroll .log-row').count()).toBe(1);
      await admin.getByRole('button', { name: 'Show all' }).click();
      await check(admin, 'session-log');

      admin.once('dialog', (d) => void d.accept());
      await admin.getByRole('button', { name: 'Revoke', exact: true }).click();
      await admin.locator('.tag.status-revoked').waitFor();
      const err = await Promise.race([
        closed,
        new Promise<Error & { code?: string }>((r) =>
          setTimeout(() => void client.query('select 1').then(() => r(Object.assign(new Error('query succeeded'), { code: 'none' })), r), 1500),
        ),
      ]);
      expect(err.code).toBe('57P01');
      await client.end().catch(() => undefined);
    });

    it('Access requests and Audit screens: the chain verifies and filters page from the server', async () => {
      await go(admin, 'Access requests');
      await admin.getByText('Nothing waiting for a decision.').waitFor();
      await check(admin, 'requests');
      await go(admin, 'Audit');
      await admin.locator('[data-chain="ok"]').waitFor();
      await admin.locator('.log-scroll .log-row', { hasText: 'session.revoke' }).first().waitFor();
      await admin.getByLabel('Action').fill('gateway.*');
      await admin.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(async () => (await admin.locator('.log-scroll .log-row code').allTextContents()).every((t) => t.startsWith('gateway.'))).toBe(true);
      await check(admin, 'audit');
    });

    it('an auditor sees sessions, logs and audit with no write controls', async () => {
      await go(admin, 'Users');
      await admin.getByRole('button', { name: 'Invite user' }).click();
      const d = admin.getByRole('dialog', { name: 'Invite user' });
      await d.getByLabel('Email').fill(AUDREY.email);
      await d.getByLabel('Role in this project').selectOption('auditor');
      await d.getByRole('button', { name: 'Create invitation' }).click();
      const link = await admin.getByRole('textbox', { name: 'Invitation link' }).inputValue();
      await d.getByRole('button', { name: 'Done' }).click();

      const { page } = await newPage();
      await page.goto(link);
      await page.getByLabel('Password (at least 8 characters)').fill(AUDREY.password);
      await page.getByLabel('Repeat password').fill(AUDREY.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.waitFor();
      expect(await nav.getByRole('link').allTextContents()).toEqual(['Resources', 'Access requests', 'Sessions', 'Audit']);
      await go(page, 'Sessions');
      await page.getByLabel('Status').selectOption('');
      await page.locator(`[data-session="${sessionId}"]`).waitFor();
      expect(await page.getByRole('button', { name: /Revoke|End/ }).count()).toBe(0);
      await check(page, 'auditor-sessions');
      await page.locator(`[data-session="${sessionId}"]`).getByRole('link').click();
      await page.locator('.log-row', { hasText: 'select 42 as live_marker' }).waitFor();
      expect(await page.getByRole('button', { name: 'Revoke', exact: true }).count()).toBe(0);
      await go(page, 'Resources');
      expect(await page.getByRole('button', { name: 'Add resource' }).count()).toBe(0);
      await page.getByRole('link', { name: 'shop' }).click();
      await page.getByRole('heading', { name: 'shop' }).waitFor();
      expect(await page.getByRole('button', { name: /Edit|Delete|Add account/ }).count()).toBe(0);
      await check(page);
      // Hidden is also refused: the API says no to the auditor's token.
      const cookieOnly = await page.evaluate(async (id) => (await fetch(`/api/v1/sessions/${id}/revoke`, { method: 'POST' })).status, sessionId);
      expect(cookieOnly).toBe(401); // the refresh cookie authenticates no API call
      const login = await fetch(`${stack.domain}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: AUDREY.email, password: AUDREY.password }),
      });
      const { accessToken } = (await login.json()) as { accessToken: string };
      const revoke = await fetch(`${stack.domain}/api/v1/sessions/${sessionId}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(revoke.status).toBe(403);
      expect(((await revoke.json()) as { error: { code: string } }).error.code).toBe('GATEHOUSE_ERR_FORBIDDEN');
      await page.context().close();
    });

    it('a member sees their own sessions and accounts only, can use the keyboard, and signs out', async () => {
      const { page } = await newPage();
      await signIn(page, BOB.email, BOB.password);
      const nav = page.getByRole('navigation', { name: 'Main' });
      expect(await nav.getByRole('link').allTextContents()).toEqual(['My access', 'Access requests', 'Sessions']);
      // Keyboard: Tab to Sessions and open it with Enter; focus lands in the main region.
      await page.keyboard.press('Tab');
      for (let i = 0; i < 6 && !(await page.evaluate(() => document.activeElement?.textContent === 'Sessions')); i++) await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sessions');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      await page.getByLabel('Status').selectOption('');
      await page.locator(`[data-session="${sessionId}"]`).waitFor();
      expect(await page.locator('[data-session]').count()).toBe(1);
      await check(page, 'member-sessions');
      // Keyboard in a dialog: Access opens with Enter, Escape closes it.
      await go(page, 'My access');
      await page.getByRole('button', { name: 'Access shop as readonly' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('dialog', { name: 'Access shop as readonly' }).waitFor();
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
      await page.context().close();
    });

    it('no page ever violated the Content-Security-Policy', () => {
      expect(cspViolations).toEqual([]);
    });
  },
  300_000,
);

let bobAccess: ReturnType<typeof startBin>;
let bobUrl = '';
let sessionId = '';

async function waitReady(p: ReturnType<typeof startBin>): Promise<{ url: string; sessionId: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = p
      .output()
      .split('\n')
      .find((l) => l.startsWith('{'));
    if (line) return JSON.parse(line) as { url: string; sessionId: string };
    if (p.child.exitCode !== null) throw new Error(`gatehouse db access exited: ${p.output()}`);
    if (Date.now() > deadline) throw new Error(`gatehouse db access not ready: ${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
