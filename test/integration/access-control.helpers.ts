/**
 * Test helpers for the access-control CLI tests: users made through invitations, TOTP codes
 * that never repeat a time step (the server refuses replays), and `gatehouse db access`
 * spawned with any flags.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { Secret, TOTP } from 'otpauth';
import { request } from 'undici';
import type { Stack } from '../../server/demo/stack.ts';
import { Access, CliUser, ROOT } from './helpers.ts';
import { join } from 'node:path';

const CLI = join(ROOT, 'bin', 'gatehouse.mjs');
const PERIOD_MS = 30_000;

export const ALICE = { email: 'alice@demo.local', password: 'alice-password-1' };

/**
 * The access-rules scenario both the CLI and the desktop tests run: two more accounts on the
 * demo resource (`ro-mfa` requires MFA, `ro-approval` requires one approval by the admin) and
 * a member, Alice, whose policy grants both for up to an hour.
 */
export async function setUpAccessScenario(stack: Stack): Promise<{ mfaId: string; approvalId: string; aliceId: string }> {
  const me = await stack.api<{ user: { id: string } }>('GET', '/me');
  const { accounts } = await stack.api<{ accounts: { resource: { id: string } }[] }>('GET', `/projects/${stack.projectId}/accounts`);
  const resourceId = accounts[0].resource.id;
  const ro = stack.roles.readonly;
  const add = async (name: string, patch: Record<string, unknown>) => {
    const { account } = await stack.api<{ account: { id: string } }>('POST', `/resources/${resourceId}/accounts`, {
      name,
      username: ro.username,
      password: ro.password,
    });
    await stack.api('PATCH', `/accounts/${account.id}`, patch);
    return account.id;
  };
  const mfaId = await add('ro-mfa', { requireMfa: true });
  const approvalId = await add('ro-approval', { requireApproval: { approverUsers: [me.user.id], requiredApprovals: 1 } });
  const aliceId = await inviteUser(stack, ALICE.email, ALICE.password);
  await stack.api('POST', `/projects/${stack.projectId}/policies`, {
    name: 'alice',
    users: [aliceId],
    accounts: [mfaId, approvalId],
    maxDurationSeconds: 3600,
  });
  return { mfaId, approvalId, aliceId };
}

/** Invites `email` into the stack's project as `role`, accepts the invitation; returns the user id. */
export async function inviteUser(stack: Stack, email: string, password: string, role = 'member'): Promise<string> {
  const { code } = await stack.api<{ code: string }>('POST', '/users/invitations', { email, projectId: stack.projectId, role });
  const res = await request(`${stack.domain}/api/v1/auth/accept-invitation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, password }),
  });
  const body = (await res.body.json()) as { user?: { id: string }; error?: { message: string } };
  if (res.statusCode !== 200 || !body.user) throw new Error(`accept-invitation failed (${res.statusCode}): ${body.error?.message}`);
  return body.user.id;
}

const CODE_LIFETIME_MARGIN_MS = 10_000;

/**
 * TOTP codes for one secret, each from a later time step than the last one used (±1 step is
 * accepted by the server) and still valid for at least 10 s, waiting for the next period only
 * when it has to.
 */
export class TotpCodes {
  readonly #totp: TOTP;
  #lastStep = -Infinity;
  constructor(secretBase32: string) {
    this.#totp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretBase32) });
  }
  async next(): Promise<string> {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / PERIOD_MS);
      let step = Math.max(this.#lastStep + 1, current - 1);
      // The server accepts step s while its own step is s-1..s+1, that is until (s + 2) periods:
      // skip a step that would expire before the code is checked (a slow CI run took a second).
      while (step <= current + 1 && (step + 2) * PERIOD_MS - now < CODE_LIFETIME_MARGIN_MS) step += 1;
      if (step <= current + 1) {
        this.#lastStep = step;
        return this.#totp.generate({ timestamp: step * PERIOD_MS + 1_000 });
      }
      await new Promise((r) => setTimeout(r, (current + 1) * PERIOD_MS - now + 50));
    }
  }
}

/** `gatehouse db access …` as a child process, with its output collected as it comes. */
export class AccessRun {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    child.stdout?.on('data', (c: Buffer) => (this.stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  static start(user: CliUser, stack: Stack, account: string, extra: string[]): AccessRun {
    const args = ['db', 'access', '--resource', stack.resource, '--account', account, '--project-id', stack.projectId, '--duration', '10m', '--json', ...extra];
    return new AccessRun(spawn(process.execPath, [CLI, ...args], { env: user.env(), stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Any `gatehouse` command, with stdin open for answers to its prompts. */
  static spawnCli(args: string[], env: NodeJS.ProcessEnv): AccessRun {
    return new AccessRun(spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Waits until stderr matches `pattern` (or the process exits) and returns the match. */
  waitForStderr(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return this.waitFor('stderr', pattern, timeoutMs);
  }

  /** Waits until stdout matches `pattern` (or the process exits) and returns the match. */
  waitForStdout(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return this.waitFor('stdout', pattern, timeoutMs);
  }

  private async waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this[stream].match(pattern);
      if (m) return m;
      if (this.child.exitCode !== null) throw new Error(`gatehouse exited (${this.child.exitCode}) before ${pattern}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on ${stream}; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The JSON "ready" line (url, port, sessionId). */
  async ready(timeoutMs = 30_000): Promise<{ url: string; port: number; sessionId: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.includes('\n')) {
      if (this.child.exitCode !== null) throw new Error(`gatehouse db access exited (${this.child.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`gatehouse db access not ready: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return JSON.parse(this.stdout.slice(0, this.stdout.indexOf('\n'))) as { url: string; port: number; sessionId: string };
  }

  /** The exit code, or a failure naming what happened when it keeps running past `ms`. */
  async exitCode(ms = 20_000): Promise<number | null> {
    const timeout = new Promise<never>((_, reject) => {
      const t = setTimeout(() => reject(new Error(`still running after ${ms} ms; stdout: ${this.stdout} stderr: ${this.stderr}`)), ms);
      void this.exited.then(() => clearTimeout(t));
    });
    return Promise.race([this.exited, timeout]);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

export { Access, CliUser };

/** Connects to `url` without a password and answers who the database says we are. */
export async function currentUser(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ who: string }>('SELECT current_user AS who')).rows[0].who;
  } finally {
    await client.end();
  }
}

/** The stack admin enrolls TOTP and signs in with it (a recovery code); returns an API caller on that sign-in. */
export async function totpAdminApi(stack: Stack): Promise<(method: string, path: string, body?: unknown) => Promise<Record<string, any>>> {
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await request(`${stack.domain}/api/v1${path}`, {
      method: method as 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.body.json()) as Record<string, any>;
    if (res.statusCode !== 200) throw new Error(`${method} ${path} → ${res.statusCode}: ${JSON.stringify(json)}`);
    return json;
  };
  const { secret } = await stack.api<{ secret: string }>('POST', '/me/mfa/totp/enroll');
  const { recoveryCodes } = await stack.api<{ recoveryCodes: string[] }>('POST', '/me/mfa/totp/confirm', { code: await new TotpCodes(secret).next() });
  const start = await call('POST', '/auth/login', { email: stack.email, password: stack.password });
  const signedIn = await call('POST', '/auth/mfa/verify', { mfaToken: start.mfaToken, method: 'recovery', code: recoveryCodes[0] });
  return (method, path, body) => call(method, path, body, signedIn.accessToken as string);
}
