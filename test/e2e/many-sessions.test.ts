/**
 * Twenty live sessions in real Chromium against the real stack, with the app's own status
 * throttle: a burst of queries on one session updates that session's row several times
 * while the other nineteen rows, the list and the open panel do not re-render (counted by
 * the renderer's test-only commit counters), and the main process pushes that session's
 * status at most ~4 times a second however many statements run (counted on the bridge).
 */
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { rawDataToBuffer } from '../../proxy-core/src/tunnel/raw-data.ts';
import type { SessionStatus } from '../../main/ipc/contract.ts';
import type { BridgeMessage } from '../../main/ipc/ws-protocol.ts';
import { chromiumMissing, screenshot, type RunningApp } from './harness.ts';
import { signIn, startDesktopRun, type DesktopRun, type Stack } from './stack.ts';

const skipReason = chromiumMissing;
if (skipReason) console.info(`[e2e] ${import.meta.url.split('/').pop()} skipped: ${skipReason}`);

const SESSIONS = 20;
const BURST_MS = 3_000;

describe.skipIf(skipReason)(`20 concurrent sessions${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let run: DesktopRun;
  let stack: Stack;
  let app: RunningApp;
  let page: Page;
  const accounts = ['readonly', 'readwrite'];

  beforeAll(async () => {
    run = await startDesktopRun({
      viewport: { width: 1180, height: 900 },
      app: { statusIntervalMs: 'app-default' }, // the Electron app's throttle (250 ms)
      prepare: async (s) => {
        const { accounts: existing } = await s.api<{ accounts: { resource: { id: string } }[] }>('GET', `/projects/${s.projectId}/accounts`);
        const ro = s.roles.readonly;
        for (let i = accounts.length + 1; i <= SESSIONS; i++) {
          const name = `ro-${String(i).padStart(2, '0')}`;
          await s.api('POST', `/resources/${existing[0].resource.id}/accounts`, { name, username: ro.username, password: ro.password });
          accounts.push(name);
        }
      },
    });
    ({ stack, app, page } = run);
    await page.addInitScript(() => {
      window.__gatehouseRenders = {};
    });
    await signIn(run);
  }, 120_000);
  afterAll(async () => {
    await run?.close();
  });

  const renders = () => page.evaluate(() => ({ ...window.__gatehouseRenders }));

  it(`starts ${SESSIONS} sessions from the UI, each on its own port`, async () => {
    for (const name of accounts) {
      await page.getByRole('button', { name: 'Accounts' }).click();
      await page
        .getByRole('listitem', { name: `${name} on ${stack.resource}` })
        .getByRole('button', { name: 'Access' })
        .click();
      await page.getByRole('dialog').getByRole('button', { name: 'Start access' }).click();
      await page
        .locator('#panel-title')
        .filter({ hasText: new RegExp(`/ ${name}$`) })
        .waitFor({ timeout: 20_000 });
      await page.getByTestId('session-state').filter({ hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    }
    const rows = page.getByRole('listbox', { name: 'Sessions' }).getByRole('option');
    expect(await rows.count()).toBe(SESSIONS);
    const live = await app.services.api['sessions.list']();
    expect(live.filter((s) => s.state === 'ready')).toHaveLength(SESSIONS);
    expect(new Set(live.map((s) => s.port)).size).toBe(SESSIONS);
  }, 60_000);

  it('a burst on one session re-renders only its row; its status pushes stay ≤ ~4/s', async () => {
    const live = await app.services.api['sessions.list']();
    const byName = new Map(live.map((s) => [s.accountName, s]));
    const selectedId = await page.locator('.session-row.selected').getAttribute('data-session-id');
    const busy = byName.get('ro-05')!;
    expect(busy.sessionId).not.toBe(selectedId); // traffic on a row that is not the open panel
    await page.waitForTimeout(600); // let the last start's pushes settle

    // count session-status pushes as the renderer receives them: over the bridge
    const pushes: { at: number; status: SessionStatus }[] = [];
    const ws = new WebSocket(app.bridge.wsUrl);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(rawDataToBuffer(data).toString('utf8')) as BridgeMessage;
      if (msg.type === 'event' && msg.event === 'session-status') pushes.push({ at: Date.now(), status: msg.payload as SessionStatus });
    });

    const before = await renders();
    for (const s of live) expect(before[`SessionRow:${s.sessionId}`], `row ${s.accountName} was counted`).toBeGreaterThanOrEqual(1);

    const client = new pg.Client({ connectionString: busy.url, application_name: 'e2e-burst' });
    await client.connect();
    const started = Date.now();
    let queries = 0;
    while (Date.now() - started < BURST_MS) {
      await client.query('SELECT 1');
      queries++;
    }
    const burstMs = Date.now() - started;
    await page.waitForTimeout(700); // the trailing throttled push
    const after = await renders();
    ws.close();

    const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    const busyPushes = pushes.filter((p) => p.status.sessionId === busy.sessionId);
    const otherPushes = pushes.filter((p) => p.status.sessionId !== busy.sessionId);
    const otherRows = live.filter((s) => s.sessionId !== busy.sessionId).map((s) => delta(`SessionRow:${s.sessionId}`));
    let maxPerSecond = 0;
    for (const p of busyPushes) maxPerSecond = Math.max(maxPerSecond, busyPushes.filter((q) => q.at >= p.at && q.at < p.at + 1000).length);
    const report = {
      queries,
      burstMs,
      busyPushes: busyPushes.length,
      pushesPerSecond: +(busyPushes.length / ((burstMs + 700) / 1000)).toFixed(2),
      maxPushesInAnySecond: maxPerSecond,
      otherPushes: otherPushes.length,
      busyRowRenders: delta(`SessionRow:${busy.sessionId}`),
      otherRowRendersMax: Math.max(...otherRows),
      otherRowRendersTotal: otherRows.reduce((a, b) => a + b, 0),
      listRenders: delta('SessionsView'),
      panelRenders: delta('SessionPanel'),
    };
    console.info('[e2e] 20 sessions, burst on one:', JSON.stringify(report));

    // throttled, not per packet: hundreds of statements, a handful of pushes
    expect(queries).toBeGreaterThan(100);
    expect(busyPushes.length).toBeGreaterThanOrEqual((BURST_MS / 1000) * 2);
    expect(busyPushes.length).toBeLessThanOrEqual(Math.ceil((burstMs + 700) / 250) + 1);
    expect(maxPerSecond).toBeLessThanOrEqual(5);
    expect(busyPushes.at(-1)!.status.statements).toBeGreaterThanOrEqual(queries);
    expect(otherPushes).toHaveLength(0); // idle sessions push nothing

    // only what changed re-rendered
    expect(report.busyRowRenders).toBeGreaterThanOrEqual(5);
    expect(report.busyRowRenders).toBeLessThanOrEqual(busyPushes.length + 1);
    expect(report.otherRowRendersMax).toBeLessThanOrEqual(1);
    expect(report.listRenders).toBeLessThanOrEqual(1);
    expect(report.panelRenders).toBeLessThanOrEqual(1);

    // and the busy row shows the live numbers
    const row = page.locator(`[data-session-id="${busy.sessionId}"]`);
    expect(await row.textContent()).toContain('1 conn');
    await row.click();
    await page
      .getByTestId('stat-statements')
      .filter({ hasText: new RegExp(`^${busyPushes.at(-1)!.status.statements}$`) })
      .waitFor({ timeout: 2_000 });
    await screenshot(page, '23-twenty-sessions');
    await client.end();
  }, 30_000);
});
