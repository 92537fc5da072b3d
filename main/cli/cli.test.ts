/**
 * The `gatehouse` CLI: argument errors and exit codes, and the sign-in → list → logs →
 * logout flow against a real HTTP server answering the control plane's routes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../test/fixtures/postgres.ts';
import { main } from './main.ts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
});

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: '', stderr: '' };
  stdout.on('data', (d) => (chunks.stdout += d));
  stderr.on('data', (d) => (chunks.stderr += d));
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  const code = await main(argv, {
    stdout,
    stderr,
    stdin,
    env: { GATEHOUSE_HOME: home, GATEHOUSE_SECRET_STORE: 'file', ...env },
  });
  return { code, ...chunks };
}

describe('gatehouse argument errors and exit codes', () => {
  it('--help prints usage on stdout and exits 0; each command has its own help', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('gatehouse db access --resource R --account A [--project-id P]');
    const sub = await run(['db', 'access', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--duration D');
    expect((await run(['sessions', 'logs', '--help'])).stdout).toContain('one JSON object per event per line');
  });

  it('no command, an unknown command or a group without subcommand exit 2 with a hint on stderr', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect((await run(['db'])).code).toBe(2);
    // issue 14: a group whose only everyday verb is 'list' runs it
    const listed = await run(['accounts', '--domain', 'http://127.0.0.1:1']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/not signed in to http:\/\/127\.0\.0\.1:1/);
  });

  it('bad flags exit 2 and name the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['db', 'access', '--account', 'a', '--project-id', 'p', '--domain', 'http://x'], /--resource is required/],
      [['db', 'access', '--resource', 'r', '--account', 'a', '--port', '99999'], /--port must be a number between 1 and 65535/],
      [['db', 'access', '--resource', 'r', '--account', 'a', '--duration', 'soon'], /--duration must look like/],
      [['db', 'access', '--resource', 'r', '--account', 'a', '--bogus'], /Unknown option '--bogus'/],
      [['sessions', 'list', '--status', 'weird', '--domain', 'http://x'], /--status must be one of/],
      [['sessions', 'logs', '--domain', 'http://x'], /a session id is required/],
      [['sessions', 'list'], /no domain: pass --domain URL/],
      [['login', '--domain', 'http://127.0.0.1:1'], /--email and --password are required when not on a terminal/],
      // issue 14: the mistakes a newcomer makes, each answered with what to type instead
      [
        ['db', 'access', 'demo-postgres', 'readonly'],
        /unexpected "demo-postgres readonly": name them with flags, e\.g\. --resource demo-postgres --account readonly/,
      ],
      [['accounts', 'list'], /sign in first with gatehouse login --domain URL \(new here\? gatehouse invitations accept/],
      [['invitations', 'accept', 'https://gh.example.com/accept-invitation'], /the link has no code=/],
      [['projects', 'list', '--project-id', 'x'], /Unknown option '--project-id'/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('an unreachable server exits 1 with one line naming the domain', async () => {
    const port = await freePort();
    const r = await run(['login', '--domain', `http://127.0.0.1:${port}`, '--email', 'a@x', '--password', 'p']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`http://127.0.0.1:${port} is unreachable`);
  });

  it('a command before sign-in exits 1 and says how to sign in', async () => {
    const r = await run(['sessions', 'list', '--domain', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not signed in to http:\/\/127\.0\.0\.1:1.*gatehouse login/);
  });

  it('the installed entry point exits 2 on a bad flag with nothing on stdout', async () => {
    const bin = join(import.meta.dirname, '../../bin/gatehouse.mjs');
    const result = await promisify(execFile)(process.execPath, [bin, 'sessions', 'list', '--nope'], {
      env: { ...process.env, GATEHOUSE_HOME: home },
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("Unknown option '--nope'");
  });
});

describe('gatehouse against a server', () => {
  let server: Server;
  let domain: string;
  const seen: { logoutBody?: string } = {};
  const session = {
    id: 'ses_1',
    projectId: 'p1',
    userId: 'u1',
    userEmail: 'ann@example.com',
    resource: { id: 'r1', name: 'shop-db', database: 'shop' },
    account: { id: 'a1', name: 'readonly', username: 'ro' },
    status: 'active',
    createdAt: '2026-01-01T10:00:00Z',
    expiresAt: '2026-01-01T11:00:00Z',
  };
  const events = [
    { seq: 1, sessionId: 'ses_1', connectionId: 'c1', at: '2026-01-01T10:01:00Z', type: 'connect', applicationName: 'psql', clientAddress: '127.0.0.1' },
    {
      seq: 2,
      sessionId: 'ses_1',
      connectionId: 'c1',
      at: '2026-01-01T10:01:01Z',
      type: 'statement',
      protocol: 'simple',
      sql: 'SELECT *\n  FROM orders',
      durationMs: 1.25,
      outcome: { status: 'ok', tag: 'SELECT 3', rows: 3 },
    },
    {
      seq: 3,
      sessionId: 'ses_1',
      connectionId: 'c1',
      at: '2026-01-01T10:01:02Z',
      type: 'statement',
      protocol: 'simple',
      sql: 'SELECT * FROM nope',
      durationMs: 0.5,
      outcome: { status: 'error', sqlstate: '42P01', message: 'relation "nope" does not exist' },
    },
  ];

  beforeAll(async () => {
    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      for await (const c of req) body += c;
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (url.pathname === '/api/v1/auth/login') {
        const { password } = JSON.parse(body) as { password: string };
        if (password !== 'pw') return send(401, { error: { code: 'GATEHOUSE_ERR_INVALID_CREDENTIALS', message: 'wrong email or password' } });
        return send(200, {
          accessToken: 'acc',
          refreshToken: 'ref',
          expiresAt: '2099-01-01T00:00:00Z',
          user: { id: 'u1', email: 'ann@example.com', name: 'Ann', isAdmin: false },
        });
      }
      if (req.headers.authorization !== 'Bearer acc') return send(401, { error: { code: 'GATEHOUSE_ERR_UNAUTHENTICATED', message: 'sign in required' } });
      if (url.pathname === '/api/v1/auth/logout') {
        seen.logoutBody = body;
        return send(200, { ok: true });
      }
      if (url.pathname === '/api/v1/sessions') return send(200, { sessions: [session] });
      if (url.pathname === '/api/v1/sessions/ses_1/logs') {
        const after = Number(url.searchParams.get('after') ?? 0);
        const page = events.filter((e) => e.seq > after).slice(0, 2);
        const last = page.at(-1);
        return send(200, { events: page, ...(last && last.seq < 3 ? { next: last.seq } : {}) });
      }
      send(404, { error: { code: 'GATEHOUSE_ERR_NOT_FOUND', message: 'no such thing' } });
    };
    server = createServer((req, res) => void serve(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    domain = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('login remembers the domain and keeps tokens in a 0600 file; later commands need no --domain', async () => {
    const wrong = await run(['login', '--domain', domain, '--email', 'ann@example.com', '--password', 'nope']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe('gatehouse: wrong email or password');

    const login = await run(['login', '--domain', domain, '--email', 'ann@example.com', '--password', 'pw']);
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Signed in to ${domain} as ann@example.com`);
    expect(((await stat(join(home, 'secrets.json'))).mode & 0o777).toString(8)).toBe('600');

    const list = await run(['sessions', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ID\s+RESOURCE\s+ACCOUNT/);
    expect(list.stdout).toMatch(/ses_1\s+shop-db\s+readonly\s+ann@example.com\s+active/);

    const json = await run(['sessions', 'list', '--json']);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ id: 'ses_1', status: 'active' });

    const logs = await run(['sessions', 'logs', 'ses_1']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/TIME\s+CONN\s+DURATION\s+OUTCOME\s+STATEMENT/);
    expect(logs.stdout).toMatch(/1\.3 ms\s+SELECT 3\s+SELECT \* FROM orders/);
    expect(logs.stdout).toContain('error 42P01: relation "nope" does not exist');

    const logsJson = await run(['sessions', 'logs', 'ses_1', '--json']);
    const lines = logsJson.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number });
    expect(lines.map((e) => e.seq)).toEqual([1, 2, 3]); // all pages, one event per line

    const logout = await run(['logout']);
    expect(logout.code).toBe(0);
    expect(JSON.parse(seen.logoutBody ?? '{}')).toEqual({ refreshToken: 'ref' });
    const after = await run(['sessions', 'list', '--domain', domain]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('not signed in');
    await rm(home, { recursive: true, force: true });
  });
});
