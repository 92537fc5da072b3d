/**
 * Test helpers for the HTTP edge: a control plane as its own process (so a crash is seen as
 * an exit, not a failed test worker), and a raw HTTP/1.1 exchange over a socket that can send
 * bytes no HTTP client would (raw non-ASCII, broken escapes, bad methods) and tells an answer
 * from a connection dropped without one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, login } from './helpers.ts';

const ENTRY = join(import.meta.dirname, 'serve-bootstrapped.ts');

export interface ServerProcess {
  url: string;
  port: number;
  projectId: string;
  adminToken: string;
  child: ChildProcess;
  /** What the process wrote to stdout and stderr (bounded). */
  output(): string;
  alive(): boolean;
  close(): Promise<void>;
}

/** A control plane in its own process on port 0 with the test admin bootstrapped (serve-bootstrapped.ts). */
export async function startServerProcess(extraArgs: string[] = []): Promise<ServerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-edge-'));
  const env = { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--data-dir', dataDir, '--port', '0', ...extraArgs], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 4 << 20) output += chunk.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; projectId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${output}`)), 90_000);
    child.stdout.on('data', () => {
      const line = /^\{"url".*\}$/m.exec(output);
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line[0]) as { url: string; projectId: string });
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output}`)));
  });
  const adminToken = (await login(ready.url, ADMIN.email, ADMIN.password)).accessToken;
  return {
    url: ready.url,
    port: Number(new URL(ready.url).port),
    projectId: ready.projectId,
    adminToken,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(force);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type RawOutcome =
  | { kind: 'answered'; status: number; head: string; body: string }
  /** The connection closed (or was reset) before a status line arrived. */
  | { kind: 'dropped'; received: string }
  /** Nothing within the time limit. */
  | { kind: 'silent' };

/**
 * Writes `request` on a fresh connection and reads the answer. A response whose body keeps
 * streaming (audit stream) counts as answered once its head arrived and `timeoutMs` (or
 * `settleAfterHeadMs` after the head) has passed.
 */
export function rawExchange(port: number, request: Buffer | string, timeoutMs = 15_000, settleAfterHeadMs?: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(settleTimer);
      socket.destroy();
      resolve(outcome);
    };
    const parsed = (): RawOutcome | undefined => {
      const text = received.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (!match) return undefined;
      const headEnd = text.indexOf('\r\n\r\n');
      return {
        kind: 'answered',
        status: Number(match[1]),
        head: headEnd === -1 ? text : text.slice(0, headEnd),
        body: headEnd === -1 ? '' : received.subarray(headEnd + 4).toString('utf8'),
      };
    };
    const timer = setTimeout(() => finish(parsed() ?? { kind: 'silent' }), timeoutMs);
    let settleTimer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (settleAfterHeadMs !== undefined && settleTimer === undefined && received.includes('\r\n\r\n')) {
        settleTimer = setTimeout(() => finish(parsed() ?? { kind: 'dropped', received: received.toString('latin1').slice(0, 200) }), settleAfterHeadMs);
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => finish(parsed() ?? { kind: 'dropped', received: received.toString('latin1').slice(0, 200) }));
    socket.once('connect', () => socket.write(request));
  });
}

/** A request as bytes: `Connection: close`, Content-Length for a body, anything else as given. */
export function rawRequest(method: string, target: string | Buffer, headers: Record<string, string> = {}, body?: Buffer | string): Buffer {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const lines = [`Host: 127.0.0.1`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding')) {
    lines.push(`Content-Length: ${payload.length}`);
  }
  const targetBytes = Buffer.isBuffer(target) ? target : Buffer.from(target, 'latin1');
  return Buffer.concat([
    Buffer.from(`${method} `, 'latin1'),
    targetBytes,
    Buffer.from(` HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
    payload ?? Buffer.alloc(0),
  ]);
}
