/**
 * What the integration tests do the way a user does: run the `gatehouse` CLI, run psql,
 * and (for protocol corner cases no driver exposes) speak the wire protocol by hand.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createGSSENCRequest,
  createQuery,
  createStartupMessage,
  MessageFramer,
  parseErrorFields,
  PROTOCOL_3_0,
  type ErrorFields,
  type Message,
} from '../../proxy-core/src/protocol/index.ts';
import type { Stack } from '../../server/demo/stack.ts';

const execFileP = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'bin', 'gatehouse.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A signed-in CLI user with its own config dir. */
export class CliUser {
  private constructor(
    readonly home: string,
    readonly domain: string,
  ) {}

  static async login(stack: Stack, email = stack.email, password = stack.password): Promise<CliUser> {
    const home = await mkdtemp(join(tmpdir(), 'gatehouse-cli-home-'));
    const user = new CliUser(home, stack.domain);
    const res = await user.run(['login', '--domain', stack.domain, '--email', email, `--password=${password}`]);
    if (res.code !== 0) throw new Error(`gatehouse login failed (${res.code}): ${res.stderr}`);
    return user;
  }

  env(): NodeJS.ProcessEnv {
    // Each test user has its own config dir; the file store keeps their tokens apart (the OS
    // keychain, when the suite runs under one, is shared by every user of the same domain).
    return { ...process.env, GATEHOUSE_HOME: this.home, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' };
  }

  async run(args: string[]): Promise<CliResult> {
    try {
      const { stdout, stderr } = await execFileP(process.execPath, [CLI, ...args], { env: this.env(), maxBuffer: 64 << 20 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  /** `gatehouse db access … --json`, resolved once the local proxy is ready. */
  async access(stack: Stack, opts: { account: string; resource?: string; duration?: string; port?: number }): Promise<Access> {
    const args = [
      'db',
      'access',
      '--resource',
      opts.resource ?? stack.resource,
      '--account',
      opts.account,
      '--project-id',
      stack.projectId,
      '--duration',
      opts.duration ?? '1h',
      '--json',
    ];
    if (opts.port !== undefined) args.push('--port', String(opts.port));
    const child = spawn(process.execPath, [CLI, ...args], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    return Access.ready(child);
  }

  async close(): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
  }
}

export class Access {
  url = '';
  port = 0;
  sessionId = '';
  expiresAt = '';
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    child.stdout?.on('data', (c: Buffer) => (this.stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  static async ready(child: ChildProcess): Promise<Access> {
    const access = new Access(child);
    const deadline = Date.now() + 30_000;
    while (!access.stdout.includes('\n')) {
      if (child.exitCode !== null) throw new Error(`gatehouse db access exited (${child.exitCode}): ${access.stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`gatehouse db access not ready after 30 s: ${access.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const info = JSON.parse(access.stdout.slice(0, access.stdout.indexOf('\n'))) as { url: string; port: number; sessionId: string; expiresAt: string };
    Object.assign(access, info);
    return access;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

export async function psql(url: string, sql: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP('psql', [url, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...extraArgs, '-c', sql], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '10', ...env },
      maxBuffer: 256 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export async function hasBinary(name: string): Promise<boolean> {
  try {
    await execFileP('sh', ['-c', `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
}

/** A hand-driven wire-protocol client for corner cases (GSSENC first, protocol 3.2, raw cancel). */
export class RawClient {
  private framer = new MessageFramer({ maxMessageLength: 256 << 20 });
  private queue: Message[] = [];
  private waiters: Array<() => void> = [];
  private pending = Buffer.alloc(0);
  private untypedWaiter?: (b: Buffer) => void;
  received = Buffer.alloc(0);
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      if (this.untypedWaiter) {
        this.pending = Buffer.concat([this.pending, chunk]);
        const w = this.untypedWaiter;
        this.untypedWaiter = undefined;
        const byte = this.pending.subarray(0, 1);
        const rest = this.pending.subarray(1);
        this.pending = Buffer.alloc(0);
        w(byte);
        if (rest.length) this.feed(rest);
        return;
      }
      this.feed(chunk);
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private feed(chunk: Buffer): void {
    for (const m of this.framer.push(chunk)) this.queue.push(m);
    this.wake();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      socket.once('connect', () => res());
      socket.once('error', rej);
    });
    return new RawClient(socket);
  }

  /** Sends an untyped request (SSLRequest/GSSENCRequest) and returns the one-byte answer. */
  async negotiate(request: Buffer): Promise<string> {
    const answer = new Promise<Buffer>((r) => (this.untypedWaiter = r));
    this.socket.write(request);
    return (await answer).toString('latin1');
  }

  async gssencFirst(): Promise<string> {
    return this.negotiate(createGSSENCRequest());
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  async next(timeoutMs = 10_000): Promise<Message | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.queue.shift();
  }

  /** Reads messages until ReadyForQuery ('Z') or an ErrorResponse/close; returns them all. */
  async untilReady(timeoutMs = 10_000): Promise<Message[]> {
    const out: Message[] = [];
    for (;;) {
      const m = await this.next(timeoutMs);
      if (!m) return out;
      out.push(m);
      if (m.code === 0x5a) return out; // Z
    }
  }

  async startup(params: Record<string, string>, protocolVersion = PROTOCOL_3_0, options: Record<string, string> = {}): Promise<Message[]> {
    this.write(createStartupMessage(protocolVersion, params, options));
    return this.untilReady();
  }

  async query(sql: string): Promise<Message[]> {
    this.write(createQuery(sql));
    return this.untilReady(60_000);
  }

  end(): void {
    this.socket.destroy();
  }
}

/** The fields of an ErrorResponse/NoticeResponse message. */
export function errorOf(m: Message): ErrorFields {
  return parseErrorFields(m.payload);
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
