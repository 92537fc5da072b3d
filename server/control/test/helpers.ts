import { spawn } from 'node:child_process';
/** Test helpers: a real control plane on port 0, a small JSON client, a real gateway link. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { rawDataToBuffer } from '../../../proxy-core/src/tunnel/raw-data.ts';
import { createControlPlane, type ControlPlane } from '../app.ts';
import { bootstrap } from '../bootstrap.ts';
import type { ControlPlaneConfig } from '../config.ts';
import { signedLinkHeaders } from '../../../proxy-core/src/tunnel/link-signature.ts';

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };

export interface TestPlane {
  plane: ControlPlane;
  url: string;
  dataDir: string;
  projectId: string;
  close(): Promise<void>;
}

export async function startTestPlane(config: Partial<ControlPlaneConfig> = {}): Promise<TestPlane> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-control-'));
  const plane = createControlPlane({ dataDir, port: 0, expirySweepMs: 100, ...config });
  const { listenUrl: url } = await plane.start();
  const { projectId } = await bootstrap(plane.store, { ...ADMIN, projectName: 'default' });
  return {
    plane,
    url,
    dataDir,
    projectId,
    async close() {
      await plane.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  text: string;
}

/** A JSON request; `token` becomes a bearer header. */
export async function call<T = any>(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(`${url}${path}`, { method: method as 'GET', headers, body });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed as T, text };
}

export async function login(url: string, email: string, password: string): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await call(url, 'POST', '/api/v1/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.text}`);
  return res.body;
}

/** Creates a user (as admin) with a role in a project; returns their access token. */
export async function createMember(
  t: TestPlane,
  adminToken: string,
  email: string,
  role: 'admin' | 'member' | 'auditor',
): Promise<{ id: string; token: string }> {
  const password = 'member password 1';
  const created = await call(t.url, 'POST', '/api/v1/users', { token: adminToken, body: { email, password } });
  if (created.status !== 201) throw new Error(`create user failed: ${created.text}`);
  const set = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/members`, { token: adminToken, body: { email, role } });
  if (set.status !== 200) throw new Error(`set member failed: ${set.text}`);
  return { id: created.body.user.id, token: (await login(t.url, email, password)).accessToken };
}

export interface TestGateway {
  id: string;
  /** The gateway's enrolled private key (to open what was sealed to it). */
  privateKeyPem: string;
  ws: WebSocket;
  messages: Record<string, unknown>[];
  nextMessage(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

/** Creates + enrolls a gateway and opens its link the way a real gateway does. */
export async function connectGateway(t: TestPlane, adminToken: string, name: string): Promise<TestGateway> {
  const created = await call(t.url, 'POST', '/api/v1/gateways', { token: adminToken, body: { name, projectId: t.projectId } });
  const keys = generateKeyPair();
  const enrolled = await call(t.url, 'POST', '/api/v1/gateways/enroll', { body: { token: created.body.enrollmentToken, publicKeyPem: keys.publicKeyPem } });
  if (enrolled.status !== 200) throw new Error(`enroll failed: ${enrolled.text}`);
  const id: string = enrolled.body.gatewayId;
  const ws = await openLink(t.url, id, keys.privateKeyPem);
  const messages: Record<string, unknown>[] = [];
  const waiters: { predicate: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const message = JSON.parse(rawDataToBuffer(data).toString('utf8')) as Record<string, unknown>;
    messages.push(message);
    for (const w of waiters.filter((w) => w.predicate(message))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(message);
    }
  });
  return {
    id,
    privateKeyPem: keys.privateKeyPem,
    ws,
    messages,
    nextMessage(predicate, timeoutMs = 5000) {
      const seen = messages.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no such gateway message')), timeoutMs);
        waiters.push({ predicate, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    close: () => ws.terminate(),
  };
}

/** A fresh single-use link challenge for `gatewayId` (what a gateway fetches before each dial). */
export async function linkChallenge(url: string, gatewayId: string): Promise<string> {
  const res = await call(url, 'POST', '/api/v1/gateways/link-challenge', { body: { gatewayId } });
  if (res.status !== 200) throw new Error(`link challenge refused: ${res.status} ${res.text}`);
  return res.body.nonce;
}

/** Opens a gateway link with these headers; rejects with the HTTP status when refused. */
export function openLinkWithHeaders(url: string, headers: Record<string, string>): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/gateways/link`, { headers, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`link refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Opens a gateway link the way a real gateway does: challenge, signature with `privateKeyPem`, upgrade. */
export async function openLink(url: string, gatewayId: string, privateKeyPem: string): Promise<WebSocket> {
  return openLinkWithHeaders(url, signedLinkHeaders(gatewayId, privateKeyPem, await linkChallenge(url, gatewayId)));
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const SERVER_BIN = join(import.meta.dirname, '../../../bin/gatehouse-server.mjs');

/** Runs `gatehouse-server …` as a child process to its end (logs silenced). */
export function runServerCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
