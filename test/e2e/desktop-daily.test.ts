/**
 * Issue 14, the desktop renderer's session panel in real Chromium against the real stack
 * (control plane and gateway processes, PostgreSQL) through the app's real services: the
 * honest state (gateway offline while the gateway is down, ended with who revoked it),
 * gateway health on the Accounts list, what the app did on resume, Extend in place under an
 * open connection, Access again, and client profiles. Screenshots: docs/screenshots/desktop-*.png.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './console-stack.ts';
import { chromiumMissing, docShot } from './harness.ts';
import { signIn, startDesktopRun, type DesktopRun, type Stack } from './stack.ts';

const skipReason = chromiumMissing;
if (skipReason) console.info(`[e2e] ${import.meta.url.split('/').pop()} skipped: ${skipReason}`);

describe.skipIf(skipReason)(`issue 14: the desktop session panel tells the truth${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let run: DesktopRun;
  let stack: Stack;
  let page: Page;
  let client: pg.Client;

  const state = () => page.getByTestId('session-state');
  const expiresAt = async (account: string) => {
    const s = (await run.app.services.api['sessions.list']()).find((x) => x.accountName === account && x.state === 'ready');
    if (!s) throw new Error(`no running ${account} session`);
    return s;
  };

  beforeAll(async () => {
    run = await startDesktopRun({ clipboard: true });
    ({ stack, page } = run);
    await signIn(run);
  }, 180_000);
  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await run?.close();
  });

  it('item 3: Extend adds time in place; the open connection keeps working', async () => {
    await page
      .getByRole('listitem', { name: `readonly on ${stack.resource}` })
      .getByRole('button', { name: 'Access' })
      .click();
    const dialog = page.getByRole('dialog', { name: `Access ${stack.resource} as readonly` });
    await dialog.getByLabel(/^Duration/).selectOption('15m');
    await dialog.getByRole('button', { name: 'Start access' }).click();
    await state().filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    client = new pg.Client({ connectionString: await page.getByLabel('Connection URL').inputValue() });
    client.on('error', () => undefined); // the gateway is killed below: its connection ends with 57P01
    await client.connect();
    await client.query('SELECT 1');

    const before = Date.parse((await expiresAt('readonly')).expiresAt);
    await page.getByLabel('Extend by').selectOption('1h');
    await page.getByRole('button', { name: 'Extend', exact: true }).click();
    await page.getByText(`Extended ${stack.resource} / readonly`).waitFor({ timeout: 10_000 });
    const after = Date.parse((await expiresAt('readonly')).expiresAt);
    expect(after - before).toBeGreaterThanOrEqual(3_600_000 - 5_000);
    expect(await page.locator('.panel .time-left').textContent()).toMatch(/^1:1\d:\d\d left$/);
    expect((await client.query<{ n: number }>('SELECT 2 AS n')).rows[0].n).toBe(2); // same connection, never dropped
    await docShot(page, 'extended');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('item 1: with the gateway down the panel stops saying Ready, and the Accounts list shows the gateway offline', async () => {
    const killed = Date.now();
    await stack.gateway.kill();
    await state()
      .filter({ hasText: /Gateway offline|Reconnecting/ })
      .waitFor({ timeout: 15_000 });
    const notReadyAfterMs = Date.now() - killed;
    console.info(`[e2e] the panel left "Ready" ${notReadyAfterMs} ms after the gateway was killed`);
    expect(notReadyAfterMs).toBeLessThan(10_000);
    await page.getByTestId('connection-notice').waitFor();
    await docShot(page, 'gateway-offline');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Accounts' }).click();
    await page.getByTestId('gateway-health').filter({ hasText: 'Gateway offline' }).waitFor({ timeout: 15_000 });
    await docShot(page, 'accounts-gateway-offline');

    await stack.restartGateway();
    await page.getByTestId('gateway-health').filter({ hasText: 'Gateway online' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: /^Sessions/ }).click();
    await state().filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
  });

  it('item 2: after the computer wakes up the app re-checks each session and says what it found', async () => {
    const report = await run.app.services.api.systemResumed('resume');
    expect(report.sessions.map((x) => x.accountName)).toEqual(['readonly']);
    const banner = page.getByTestId('resume-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(
      /^Your computer woke up at .+: Gatehouse re-checked each session’s grant and tunnel\.demo-postgres \/ readonly: (still connected|reconnected)/,
    );
    await docShot(page, 'resumed');
    expect(await axeViolations(page)).toEqual([]);
    await banner.getByRole('button', { name: 'Dismiss' }).click();
    await banner.waitFor({ state: 'detached' });
    await state().filter({ hasText: 'Ready' }).waitFor();
  });

  it('item 1: a revoked session says who revoked it; item 3: Access again starts it anew', async () => {
    const running = await expiresAt('readonly');
    await stack.api('POST', `/sessions/${running.sessionId}/revoke`, {});
    await state().filter({ hasText: 'Revoked' }).waitFor({ timeout: 10_000 });
    const notice = page.getByTestId('ended-notice');
    await notice.filter({ hasText: `${stack.email} revoked this session` }).waitFor({ timeout: 10_000 });
    await docShot(page, 'revoked-by');

    await page.getByRole('button', { name: 'Access again' }).click();
    await page
      .locator('#panel-title')
      .filter({ hasText: `${stack.resource} / readonly` })
      .waitFor();
    await state().filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    const again = await expiresAt('readonly');
    expect(again.sessionId).not.toBe(running.sessionId);
  });

  it('item 4: client profiles are written (psql service line to copy) and removed on request', async () => {
    const profiles = page.getByRole('region', { name: 'Client profiles' });
    await profiles.getByRole('button', { name: 'Write psql and DBeaver profiles' }).click();
    const line = profiles.getByLabel('psql command');
    await line.waitFor({ timeout: 10_000 });
    const command = await line.inputValue();
    expect(command).toBe(`psql service=gatehouse-${stack.resource}-readonly`);
    const written = await run.app.services.api['profiles.list']();
    const service = written.find((p) => p.kind === 'pg-service');
    expect(service).toBeDefined();
    expect(service!.file.startsWith(run.app.dir)).toBe(true); // the test's temp dir, not the real home
    expect(await readFile(service!.file, 'utf8')).toContain(`[gatehouse-${stack.resource}-readonly]`);
    expect(await profiles.textContent()).toContain('DBeaver connection');
    await docShot(page, 'client-profiles');

    await profiles.getByRole('button', { name: 'Remove profiles' }).click();
    await profiles.getByRole('button', { name: 'Write psql and DBeaver profiles' }).waitFor();
    expect(await run.app.services.api['profiles.list']()).toEqual([]);
  });
});
