/**
 * Issue 14 (CLI): a new member goes from an invitation link to psql with the `gatehouse` CLI
 * alone — no curl, no UUID from anyone — against the whole product (real control plane,
 * gateway and PostgreSQL as processes). Along the way the mistakes a newcomer makes: no
 * password off a terminal, a short one, the link used twice, a second `db access` for the
 * same account, a scheme-less --domain on a plain-HTTP server, logging out twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { AccessRun, currentUser, totpAdminApi, TotpCodes } from '../../test/integration/access-control.helpers.ts';

const NEWCOMER = { email: 'nina@demo.local', password: 'nina password 1' };

let stack: Stack;
let home: string;
const runs: AccessRun[] = [];

beforeAll(async () => {
  stack = await startStack({ env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  home = await mkdtemp(join(tmpdir(), 'gatehouse-newcomer-'));
}, 180_000);

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
  await stack?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const env = (dir = home): NodeJS.ProcessEnv => ({ ...process.env, GATEHOUSE_HOME: dir, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' });

/** Runs `gatehouse …` to completion (stdin closed unless `input` is given). */
async function gatehouse(args: string[], dir = home): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = AccessRun.spawnCli(args, env(dir));
  run.child.stdin!.end();
  const code = await run.exitCode(30_000);
  return { code, stdout: run.stdout, stderr: run.stderr };
}

function track(run: AccessRun): AccessRun {
  runs.push(run);
  return run;
}

async function invite(email: string): Promise<string> {
  const { url } = await stack.api<{ url: string }>('POST', '/users/invitations', { email, projectId: stack.projectId, role: 'member' });
  return url;
}

describe('issue 14 CLI: from an invitation to psql with the gatehouse CLI alone', () => {
  let link: string;

  it('invitations accept: the link sets the password and signs in; mistakes exit 2 or 1 with the reason', async () => {
    link = await invite(NEWCOMER.email);
    expect(link).toMatch(/#code=ghi_/);

    const none = await gatehouse(['invitations', 'accept']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('the invitation link (or its code) is required');

    const noPassword = await gatehouse(['invitations', 'accept', link]);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain('--password is required when not on a terminal');

    const short = await gatehouse(['invitations', 'accept', link, '--password', 'short']);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/password/i);

    const bareCode = await gatehouse(['invitations', 'accept', link.split('#code=')[1], '--password', NEWCOMER.password]);
    expect(bareCode.code).toBe(2); // a bare code needs to know which server
    expect(bareCode.stderr).toContain('no domain: pass --domain URL');

    const accepted = await gatehouse(['invitations', 'accept', link, '--password', NEWCOMER.password]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain(`Signed in to ${stack.domain} as ${NEWCOMER.email}`);
    expect(accepted.stdout).toContain('gatehouse accounts list');

    const again = await gatehouse(['invitations', 'accept', link, '--password', NEWCOMER.password]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('unknown, already used or expired');
  });

  it('projects list and accounts list show what the member may access, with MFA, approval and max duration', async () => {
    const projects = await gatehouse(['projects', 'list']);
    expect(projects.code, projects.stderr).toBe(0);
    expect(projects.stdout).toMatch(/ID\s+NAME\s+ROLE\s+DEFAULT/);
    expect(projects.stdout).toMatch(new RegExp(`${stack.projectId}\\s+demo\\s+member\\s+yes`));

    const empty = await gatehouse(['accounts', 'list']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('No accounts you may access');

    const { users } = await stack.api<{ users: { id: string; email: string }[] }>('GET', '/users');
    const nina = users.find((u) => u.email === NEWCOMER.email)!;
    const { accounts } = await stack.api<{ accounts: { id: string; name: string }[] }>('GET', `/projects/${stack.projectId}/accounts`);
    const readonly = accounts.find((a) => a.name === 'readonly')!;
    await stack.api('POST', `/projects/${stack.projectId}/policies`, { name: 'nina', users: [nina.id], accounts: [readonly.id], maxDurationSeconds: 3600 });

    const listed = await gatehouse(['accounts', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/RESOURCE\s+ACCOUNT\s+DB USER\s+MFA\s+APPROVAL\s+MAX DURATION/);
    expect(listed.stdout).toMatch(new RegExp(`demo-postgres\\s+readonly\\s+${stack.roles.readonly.username}\\s+-\\s+-\\s+1h`));
    expect(listed.stdout).not.toContain('readwrite'); // only what the policy grants
    expect(listed.stderr).toContain('gatehouse db access --resource demo-postgres --account readonly');

    const byName = await gatehouse(['accounts', 'list', '--project-id', 'demo', '--json']);
    expect(JSON.parse(byName.stdout.trim())).toMatchObject({ name: 'readonly', maxDurationSeconds: 3600, project: { id: stack.projectId } });
    const wrong = await gatehouse(['accounts', 'list', '--project-id', 'nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`no project "nope" among yours: demo (${stack.projectId}, member)`);
  });

  it('db access needs no --project-id; a second one for the same account points at the running session; a warning comes before expiry', async () => {
    const first = track(AccessRun.spawnCli(['db', 'access', '--resource', 'demo-postgres', '--account', 'readonly', '--duration', '2m', '--json'], env()));
    first.child.stdin!.end();
    const ready = await first.ready(60_000);
    expect(await currentUser(ready.url)).toBe(stack.roles.readonly.username);
    // a 2-minute session is inside the 5-minute warning window: warned at once
    await first.waitForStderr(/Session \S+ expires in (2 minutes|1\d\d seconds)/);

    const second = await gatehouse(['db', 'access', '--resource', 'demo-postgres', '--account', 'readonly']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('readonly on demo-postgres already has a running session on this machine');
    expect(second.stderr).toContain(`URL:   ${ready.url}`);
    expect(second.stderr).toContain(`kill ${first.child.pid}`);
    expect(second.stderr).not.toContain('in use');

    expect(await first.stop()).toBe(0);
    // once it ended, the account is free again on this machine
    const third = track(AccessRun.spawnCli(['db', 'access', '--resource', 'demo-postgres', '--account', 'readonly', '--duration', '10m', '--json'], env()));
    third.child.stdin!.end();
    expect((await third.ready(60_000)).port).toBe(ready.port); // same stable port
    expect(await third.stop()).toBe(0);

    // the usual port held by something that is not a `db access` here (say, the desktop app)
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(ready.port, '127.0.0.1', r));
    try {
      const blocked = await gatehouse(['db', 'access', '--resource', 'demo-postgres', '--account', 'readonly']);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain(`port ${ready.port}, this account's usual one, is in use by another program (the desktop app may have a session`);
      expect(blocked.stderr).toContain('--port');
    } finally {
      squatter.close();
    }
  });

  it('in two projects: accounts list adds a PROJECT column, and db access on a fresh machine asks which project', async () => {
    const { project } = await stack.api<{ project: { id: string } }>('POST', '/projects', { name: 'second' });
    await stack.api('POST', `/projects/${project.id}/members`, { email: NEWCOMER.email, role: 'member' });
    const listed = await gatehouse(['accounts', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/PROJECT\s+RESOURCE\s+ACCOUNT/);
    expect(listed.stdout).toMatch(/demo\s+demo-postgres\s+readonly/);
    expect(listed.stderr).toContain('--project-id demo');

    const fresh = await mkdtemp(join(tmpdir(), 'gatehouse-newcomer-2-'));
    try {
      expect((await gatehouse(['login', '--domain', stack.domain, '--email', NEWCOMER.email, '--password', NEWCOMER.password], fresh)).code).toBe(0);
      const ask = await gatehouse(['db', 'access', '--resource', 'demo-postgres', '--account', 'readonly'], fresh);
      expect(ask.code).toBe(2);
      expect(ask.stderr).toContain(
        `you are in 2 projects; pick one with --project-id (its id or name): demo (${stack.projectId}, member), second (${project.id}, member)`,
      );
      expect((await gatehouse(['projects', 'list'], fresh)).stdout).not.toMatch(/yes/); // no default yet
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('login --domain host:port (no scheme) on a plain-HTTP server hints at http://; logout twice exits 0 both times', async () => {
    const bare = stack.domain.replace(/^http:\/\//, '');
    const hinted = await gatehouse(['login', '--domain', bare, '--email', NEWCOMER.email, '--password', NEWCOMER.password]);
    expect(hinted.code).toBe(1);
    expect(hinted.stderr.trim().split('\n')).toHaveLength(1);
    expect(hinted.stderr).toContain(`use --domain ${stack.domain}`);

    const out = await gatehouse(['logout']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Signed out of ${stack.domain}`);
    const twice = await gatehouse(['logout']);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain('Not signed in; nothing to do.');
    const named = await gatehouse(['logout', '--domain', stack.domain]);
    expect(named.code).toBe(0);
    expect(named.stdout).toContain(`Not signed in to ${stack.domain}`);
  });
});

describe('issue 10 item 13: invitations accept for an email that already has an account', () => {
  it("joins the project with that account's password (a wrong one is refused, nothing joins)", async () => {
    const olga = { email: 'olga@demo.local', password: 'olga password 1' };
    const pat = { email: 'pat@demo.local', password: 'pat password 1' };
    await stack.api('POST', '/users', olga);
    await stack.api('POST', '/users', pat);
    await stack.api('POST', `/projects/${stack.projectId}/members`, { email: pat.email, role: 'admin' });
    const signIn = await request(`${stack.domain}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(pat),
    });
    const { accessToken } = (await signIn.body.json()) as { accessToken: string };
    // A project admin's invitation for an email with an account is created like any other.
    const invited = await request(`${stack.domain}/api/v1/users/invitations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ email: olga.email, projectId: stack.projectId, role: 'member' }),
    });
    expect(invited.statusCode).toBe(201);
    const { url } = (await invited.body.json()) as { url: string };
    const members = async () =>
      (await stack.api<{ members: { email: string; role: string }[] }>('GET', `/projects/${stack.projectId}/members`)).members.filter(
        (m) => m.email === olga.email,
      );

    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-newcomer-existing-'));
    try {
      const wrong = await gatehouse(['invitations', 'accept', url, '--password', 'a brand new password'], dir);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('already has a Gatehouse account; enter its password');
      expect(await members()).toEqual([]);
      const joined = await gatehouse(['invitations', 'accept', url, '--password', olga.password], dir);
      expect(joined.code, joined.stderr).toBe(0);
      expect(joined.stdout).toContain(`Signed in to ${stack.domain} as ${olga.email}`);
      expect(await members()).toEqual([expect.objectContaining({ role: 'member' })]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Whether accepting an invitation under enforced TOTP answers the enrollment challenge (issue 10 item, server side). */
describe('issue 14 CLI: invitations accept under enforced TOTP', () => {
  it('enrolls the authenticator on the spot (code from stdin), prints recovery codes and signs in', async () => {
    const link = await invite('omar@demo.local');
    // Enforcing TOTP ends every password-only sign-in, the admin's own too (issue 10 item 5):
    // the admin enrolls first and acts through a sign-in that used it.
    const adminApi = await totpAdminApi(stack);
    await adminApi('PATCH', '/settings/mfa', { enforce: 'totp' });
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-newcomer-mfa-'));
    try {
      const run = track(AccessRun.spawnCli(['invitations', 'accept', link, '--password', 'omar password 1'], env(dir)));
      const [, secret] = await run.waitForStdout(/Secret:\s+(\S+)/, 30_000);
      expect(run.stderr).toContain('Your organization requires an authenticator app');
      run.child.stdin!.end(`${await new TotpCodes(secret).next()}\n`);
      expect(await run.exitCode(30_000), run.stderr).toBe(0);
      expect(run.stdout).toContain('Recovery codes');
      expect(run.stdout).toContain('Signed in to');
      expect((await gatehouse(['projects', 'list'], dir)).stdout).toMatch(/demo\s+member/);
    } finally {
      await adminApi('PATCH', '/settings/mfa', { enforce: 'none' });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
