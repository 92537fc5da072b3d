/**
 * Issue 13 "Done when", fault and leak items, with the control plane and the gateway as real
 * processes on a PostgreSQL store (DATABASE_URL) and a target PostgreSQL with TLS and
 * log_statement = 'all':
 * - the control plane is SIGKILLed between ALTER ROLE and making the new password current
 *   (test-only fault point); after a restart the account works and the stored password is
 *   the one the database has;
 * - the new plaintext password appears in no database log line, no Gatehouse log line (control
 *   plane and gateway at debug level), no audit event, no session event and no API response.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificates } from '../../../../proxy-core/src/upstream/test-certs.ts';
import { freePort, startPostgres, type PgServer } from '../../../../test/fixtures/postgres.ts';
import { startProc, until, type Proc } from '../../../../test/integration/cluster-stack.ts';
import { deriveKeys } from '../../crypto/keys.ts';
import { SecretBox } from '../../crypto/secret-box.ts';
import { accountPasswordAad } from '../../store/accounts.ts';
import { openStore, type Store } from '../../store/store.ts';
import { call } from '../../test/helpers.ts';

const FIXTURE = fileURLToPath(new URL('./plane-child.fixture.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const ADMIN = { email: 'admin@crash.local', password: 'crash admin password 1' };

interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

let pgServer: PgServer;
let dir: string;
let store: Store;
let box: SecretBox;
let port: number;
let url: string;
let token: string;
let gateway: Proc | undefined;
const children: Child[] = [];
const responses: string[] = [];
let baseEnv: NodeJS.ProcessEnv;

function startPlane(extra: NodeJS.ProcessEnv): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, ...baseEnv, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const child: Child = { proc, output: () => out, exited: new Promise((r) => proc.once('exit', () => r())) };
  children.push(child);
  return until(
    'the control plane to start',
    () => {
      if (proc.exitCode !== null) throw new Error(`control plane exited: ${out.slice(-2000)}`);
      return out.includes('READY ') ? child : undefined;
    },
    60_000,
    50,
  );
}

async function api<T = any>(method: string, path: string, body?: unknown) {
  const res = await call<T>(url, method, `/api/v1${path}`, { token, ...(body !== undefined && { body }) });
  responses.push(res.text);
  return res;
}

async function directLogin(user: string, password: string): Promise<string> {
  const c = new pg.Client({ host: '127.0.0.1', port: pgServer.port, user, password, database: 'appdb', ssl: { rejectUnauthorized: false } });
  try {
    await c.connect();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function stored(accountId: string): Promise<string> {
  const account = await store.accounts.findById(accountId);
  return box.openString(account!.passwordSealed!, accountPasswordAad(accountId));
}

beforeAll(async () => {
  const certs = createTestCertificates();
  pgServer = await startPostgres({ tls: { certPem: certs.certPem, keyPem: certs.keyPem }, settings: { log_statement: 'all' }, keepLogLines: 100_000 });
  await pgServer.query('create database gatehouse_store');
  await pgServer.query('create database appdb');
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-crash-'));
  const rootKey = randomBytes(32);
  box = new SecretBox(deriveKeys(rootKey).encryption);
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const databaseUrl = `postgres://${pgServer.superuser}:${encodeURIComponent(pgServer.superuserPassword)}@127.0.0.1:${pgServer.port}/gatehouse_store`;
  baseEnv = {
    DATABASE_URL: databaseUrl,
    GATEHOUSE_ROOT_KEY: rootKey.toString('base64'),
    PORT: String(port),
    DATA_DIR: join(dir, 'plane'),
    GATEHOUSE_LOG_LEVEL: 'debug',
  };
  await startPlane({ KILL_AFTER_ALTER_ROLE: '1', BOOTSTRAP: `${ADMIN.email}:${ADMIN.password}` });
  store = await openStore({ kind: 'postgres', connectionString: databaseUrl });
  const loginRes = await call(url, 'POST', '/api/v1/auth/login', { body: ADMIN });
  token = loginRes.body.accessToken;
  const projectId = (await api('GET', '/me')).body.projects[0].id as string;
  const gw = await api('POST', '/gateways', { name: 'edge', projectId });
  gateway = startProc('gatehouse-gateway.mjs', ['start', '--domain', url, '--data-dir', join(dir, 'gw'), '--token', gw.body.enrollmentToken], {
    GATEHOUSE_LOG_LEVEL: 'debug',
  });
  await until('the gateway to link', async () => (await api('GET', '/gateways')).body.gateways[0]?.connected === true, 60_000, 100);
  const resource = await api('POST', `/projects/${projectId}/resources`, {
    name: 'app',
    gatewayId: gw.body.gateway.id,
    host: '127.0.0.1',
    port: pgServer.port,
    database: 'appdb',
    ssl: { enabled: true, rejectUnauthorized: true, ca: certs.caPem },
  });
  expect(resource.status).toBe(201);
  (globalThis as { resourceId?: string }).resourceId = resource.body.resource.id;
  (globalThis as { projectId?: string }).projectId = projectId;
}, 180_000);

afterAll(async () => {
  await gateway?.kill();
  for (const c of children) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.proc.kill('SIGTERM');
      await Promise.race([c.exited, new Promise((r) => setTimeout(r, 5000))]);
      c.proc.kill('SIGKILL');
    }
  }
  await store?.close();
  await pgServer?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('issue 13 fault test: the control plane dies between ALTER ROLE and making the password current', () => {
  const passwords: string[] = [];

  it('after a restart the pending password is reconciled: the account works and the stored password matches the database', async () => {
    const resourceId = (globalThis as { resourceId?: string }).resourceId!;
    await pgServer.createRole('crashy', 'old-password-crashy');
    const acc = await api('POST', `/resources/${resourceId}/accounts`, { name: 'crashy', username: 'crashy', password: 'old-password-crashy' });
    const accountId = acc.body.account.id as string;

    let answer = '';
    const rotate = call(url, 'POST', `/api/v1/accounts/${accountId}/rotate`, { token }).then(
      (res) => ((answer = res.text), 'answered'),
      () => 'connection lost',
    );
    const killed = await Promise.race([children[0].exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
    if (!killed) throw new Error(`the fault point did not fire: ${answer} ${children[0].output().slice(-3000)}`);
    expect(children[0].proc.signalCode).toBe('SIGKILL');
    expect(await rotate).toBe('connection lost');

    // The kill landed after ALTER ROLE: the database has the pending password, the store the old one.
    const row = await store.db.selectFrom('account_credentials').selectAll().where('account_id', '=', accountId).executeTakeFirstOrThrow();
    expect(row.pending_password_sealed).not.toBeNull();
    const pending = box.openString(row.pending_password_sealed!, accountPasswordAad(accountId));
    passwords.push(pending);
    expect(await stored(accountId)).toBe('old-password-crashy');
    expect(await directLogin('crashy', 'old-password-crashy')).toBe('28P01');
    expect(await directLogin('crashy', pending)).toBe('ok');

    // Restart (no fault): the scheduler reconciles at start.
    await startPlane({});
    token = (await call(url, 'POST', '/api/v1/auth/login', { body: ADMIN })).body.accessToken;
    await until(
      'the pending password to be reconciled',
      async () => {
        const r = await store.db
          .selectFrom('account_credentials')
          .select('pending_password_sealed')
          .where('account_id', '=', accountId)
          .executeTakeFirstOrThrow();
        return r.pending_password_sealed === null;
      },
      30_000,
      100,
    );
    expect(await stored(accountId)).toBe(pending);
    expect(await directLogin('crashy', await stored(accountId))).toBe('ok');
    const projectId = (globalThis as { projectId?: string }).projectId!;
    const check = await api('POST', `/projects/${projectId}/resources/${resourceId}/accounts/${accountId}/check`);
    expect(check.body.check.ok).toBe(true);
    const reconciled = await store.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', accountId)
      .where('action', '=', 'account.rotation_reconciled')
      .execute();
    expect(reconciled).toHaveLength(1);

    // And an ordinary Rotate now after it.
    const again = await api('POST', `/accounts/${accountId}/rotate`);
    expect(again.body.result).toEqual({ ok: true, reconciled: false });
    passwords.push(await stored(accountId));
    expect(await directLogin('crashy', passwords[1])).toBe('ok');
  });

  it('issue 13 leak scan: no new plaintext password in the database log, Gatehouse logs, audit, session events or API responses', async () => {
    expect(passwords).toHaveLength(2);
    const dbLog = pgServer.logs().join('');
    // The database did log the rotation statements, with the verifier only.
    expect(dbLog).toMatch(/ALTER ROLE "crashy" PASSWORD 'SCRAM-SHA-256\$4096:/);
    const gatehouseLogs = [...children.map((c) => c.output()), gateway!.output()].join('\n');
    expect(gatehouseLogs).toContain('service connection');
    const audit = JSON.stringify(await store.db.selectFrom('audit_events').selectAll().execute());
    const events = JSON.stringify(await store.db.selectFrom('session_events').selectAll().execute());
    const apiText = responses.join('\n');
    for (const p of passwords) {
      expect(dbLog).not.toContain(p);
      expect(gatehouseLogs).not.toContain(p);
      expect(audit).not.toContain(p);
      expect(events).not.toContain(p);
      expect(apiText).not.toContain(p);
    }
  });
});
