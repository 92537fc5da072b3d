import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { createControlPlane } from '../../control/app.ts';
import { ADMIN, call, login, startTestPlane, type TestPlane } from '../../control/test/helpers.ts';
import { main } from '../cli.ts';
import { enrollGateway } from '../enroll.ts';
import { createGateway } from '../gateway.ts';
import { loadIdentity } from '../identity.ts';
import { until } from './stack.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

async function plane(): Promise<{ t: TestPlane; token: string }> {
  const t = await startTestPlane();
  cleanups.push(() => t.close());
  const { accessToken } = await login(t.url, ADMIN.email, ADMIN.password);
  return { t, token: accessToken };
}

async function newGateway(t: TestPlane, adminToken: string, name: string): Promise<{ id: string; enrollmentToken: string }> {
  const res = await call(t.url, 'POST', '/api/v1/gateways', { token: adminToken, body: { name, projectId: t.projectId } });
  expect(res.status).toBe(201);
  return { id: res.body.gateway.id, enrollmentToken: res.body.enrollmentToken };
}

async function gatewayConnected(url: string, adminToken: string, id: string): Promise<boolean> {
  const res = await call(url, 'GET', '/api/v1/gateways', { token: adminToken });
  return res.body.gateways.find((g: { id: string }) => g.id === id)?.connected === true;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-gwcp-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('gateway against the real control plane', () => {
  it("enrolls once with its token (key stored 0600); a used token gets the server's clear error", async () => {
    const { t, token } = await plane();
    const gw = await newGateway(t, token, 'edge-1');
    const dir = await tempDir();
    expect(await main(['enroll', '--domain', t.url, '--token', gw.enrollmentToken, '--data-dir', dir])).toBe(0);
    const identity = await loadIdentity(dir);
    expect(identity?.gatewayId).toBe(gw.id);
    expect((await stat(join(dir, 'gateway.key'))).mode & 0o777).toBe(0o600);

    const again = enrollGateway({ domain: t.url, token: gw.enrollmentToken, dataDir: await tempDir() });
    await expect(again).rejects.toMatchObject({ code: ErrorCodes.ENROLLMENT_TOKEN_INVALID, message: expect.stringContaining('already used') });
  });

  it('links with its signed headers, shows as connected, and relinks after the control plane restarts', async () => {
    const { t, token } = await plane();
    const gw = await newGateway(t, token, 'edge-2');
    const dir = await tempDir();
    const gateway = createGateway({ domain: t.url, dataDir: dir, token: gw.enrollmentToken, link: { baseBackoffMs: 50, maxBackoffMs: 500 } });
    cleanups.push(() => gateway.close());
    await gateway.start();
    await gateway.waitConnected(10_000);
    await until(() => t.plane.relay.isGatewayConnected(gw.id));
    expect(await gatewayConnected(t.url, token, gw.id)).toBe(true);

    const port = Number(new URL(t.url).port);
    await t.plane.close();
    await until(() => !gateway.connected);
    const again = createControlPlane({ dataDir: t.dataDir, port, expirySweepMs: 100 });
    await again.start();
    cleanups.push(() => again.close());
    await gateway.waitConnected(10_000);
    await until(() => again.relay.isGatewayConnected(gw.id));
    const { accessToken } = await login(again.url, ADMIN.email, ADMIN.password);
    expect(await gatewayConnected(again.url, accessToken, gw.id)).toBe(true);
  });

  it('runs as `gatehouse-gateway start` (enrolling with --token), and stops cleanly on SIGTERM', async () => {
    const { t, token } = await plane();
    const gw = await newGateway(t, token, 'edge-3');
    const dir = await tempDir();
    const bin = join(import.meta.dirname, '../../../bin/gatehouse-gateway.mjs');
    const child = spawn(process.execPath, [bin, 'start', '--domain', t.url, '--data-dir', dir, '--token', gw.enrollmentToken], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info', VITEST: '' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(() => Promise.resolve(child.kill('SIGKILL')));
    const deadline = Date.now() + 20_000;
    while (!(await gatewayConnected(t.url, token, gw.id))) {
      if (Date.now() > deadline) throw new Error(`gateway did not link: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).not.toContain(gw.enrollmentToken);
    await until(() => !t.plane.relay.isGatewayConnected(gw.id));
  });
});
