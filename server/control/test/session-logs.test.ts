/**
 * `GET /sessions/:id/logs?tail=N` and `gatehouse sessions logs --tail/--after/--limit/--follow`
 * against a real control plane (PGlite store) and the real CLI binary.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { ADMIN, call, connectGateway, login, startTestPlane, waitFor, type TestGateway, type TestPlane } from './helpers.ts';

const execFileP = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../../bin/gatehouse.mjs');

let t: TestPlane;
let gateway: TestGateway;
let admin: { accessToken: string };
let home: string;
let sessionId: string;
let seq = 0;

function statement(n: number, sql = `select ${n} as answer_to_a_rather_long_question_about_everything_and_more`) {
  return {
    seq: ++seq,
    sessionId,
    connectionId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    at: new Date().toISOString(),
    type: 'statement',
    protocol: 'simple',
    sql,
    durationMs: 1.25,
    outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 },
  };
}

const env = (): NodeJS.ProcessEnv => ({ ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' });

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [CLI, ...args], { env: env() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  t = await startTestPlane();
  admin = await login(t.url, ADMIN.email, ADMIN.password);
  gateway = await connectGateway(t, admin.accessToken, 'gw-logs');
  const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
    token: admin.accessToken,
    body: { name: 'orders', gatewayId: gateway.id, host: '127.0.0.1', database: 'orders' },
  });
  await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
    token: admin.accessToken,
    body: { name: 'readonly', username: 'ro', password: 'pw-pw-pw-pw' },
  });
  const created = await call(t.url, 'POST', '/api/v1/sessions', {
    token: admin.accessToken,
    body: { projectId: t.projectId, resource: 'orders', account: 'readonly', duration: '1h', publicKeyPem: generateKeyPair().publicKeyPem },
  });
  expect(created.status).toBe(201);
  sessionId = created.body.session.id;
  await t.plane.store.sessionEvents.insert(
    gateway.id,
    Array.from({ length: 3000 }, (_, i) => statement(i + 1)),
  );
  home = await mkdtemp(join(tmpdir(), 'gatehouse-logs-home-'));
  const signIn = await cli(['login', '--domain', t.url, '--email', ADMIN.email, `--password=${ADMIN.password}`]);
  expect(signIn.code).toBe(0);
}, 60_000);

afterAll(async () => {
  gateway?.close();
  await t?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('issue 9 item 2: session logs can be tailed, paged and followed', () => {
  it('the API answers the newest N events, oldest first', async () => {
    const res = await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs?tail=5`, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: { seq: number }) => e.seq)).toEqual([2996, 2997, 2998, 2999, 3000]);
    expect(res.body.next).toBeUndefined();
    expect((await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs?tail=0`, { token: admin.accessToken })).status).toBe(400);
  });

  it('--tail prints the newest events in 80 columns with short ids and no colour when not a terminal', async () => {
    const res = await cli(['sessions', 'logs', sessionId, '--tail', '3']);
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+CONN\s+DURATION\s+OUTCOME\s+STATEMENT$/);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^\d\d:\d\d:\d\d {2}0f1e2d3c {2}\s*1\.3 ms {2}SELECT 1\s+select 3000 as answer_to_a_rather_l…$/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(res.stdout).not.toContain('\u001b[');
  });

  it('--after and --limit page through the log; --json prints every field', async () => {
    const res = await cli(['sessions', 'logs', sessionId, '--after', '1500', '--limit', '700', '--json']);
    expect(res.code).toBe(0);
    const seqs = res.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seqs).toEqual(Array.from({ length: 700 }, (_, i) => 1501 + i));
    const bad = await cli(['sessions', 'logs', sessionId, '--tail', '5', '--after', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tail and --after/);
  });

  it('--follow prints new events as they arrive and stops when the session ends', async () => {
    const child = spawn(process.execPath, [CLI, 'sessions', 'logs', sessionId, '--tail', '1', '--follow'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await waitFor(() => stdout.includes('select 3000'), 15_000);
    await t.plane.store.sessionEvents.insert(gateway.id, [statement(3001, 'select 3001 -- live')]);
    await waitFor(() => stdout.includes('select 3001 -- live'), 15_000);
    await call(t.url, 'POST', `/api/v1/sessions/${sessionId}/end`, { token: admin.accessToken });
    expect(await exited).toBe(0);
    expect(stdout.trimEnd().split('\n')).toHaveLength(3); // header, the tail, the live one
  }, 40_000);
});
