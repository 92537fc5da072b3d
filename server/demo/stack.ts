/**
 * The whole product on one machine, from real parts run as real processes: an embedded
 * PostgreSQL with the sample database, `gatehouse-server` (embedded store), a
 * `gatehouse-gateway` enrolled to it, an admin, a project, the `demo-postgres` resource and
 * its `readonly` / `readwrite` accounts. `npm run demo`, the integration tests and the
 * benchmark all start it through here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { GatehouseError, ErrorCodes } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { CertificateAuthority } from '../../proxy-core/src/tls/certs.ts';
import { freePort, startPostgres, type PgAuthMethod, type PgServer } from './embedded-postgres.ts';
import { createSampleDatabase, SAMPLE_DATABASE, type SampleRoles } from './sample-database.ts';

const log = createLogger('demo-stack');
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_RESOURCE = 'demo-postgres';
export const DEMO_ACCOUNTS = ['readonly', 'readwrite'] as const;

export interface StackOptions {
  /** Control plane port; 0 (default) picks a free one. */
  port?: number;
  /** Parent dir for the control plane's and the gateway's data; a fresh temp dir by default. */
  dataDir?: string;
  /** How the sample PostgreSQL authenticates (default scram-sha-256). */
  pgAuthMethod?: PgAuthMethod;
  /** Serve the sample database over TLS with a certificate from a demo CA (default true). */
  pgTls?: boolean;
  /** Extra environment for the server and gateway processes. */
  env?: NodeJS.ProcessEnv;
  /**
   * Where the control plane keeps its store: 'embedded' (PGlite in its data dir, the default)
   * or 'postgres' (a database of its own in the sample PostgreSQL, through DATABASE_URL).
   */
  store?: 'embedded' | 'postgres';
  /** Told before each slow step ('starting PostgreSQL', ...), for a person watching. */
  onProgress?: (step: string) => void;
}

export interface Stack {
  domain: string;
  projectId: string;
  email: string;
  password: string;
  resource: string;
  accounts: string[];
  pg: PgServer;
  roles: SampleRoles;
  dataDir: string;
  /** An admin access token, for tests and scripts. */
  adminToken(): Promise<string>;
  /** Calls the control plane's API as the admin. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  server: ManagedProcess;
  gateway: ManagedProcess;
  /** Starts a gateway process again (after `gateway.kill()`), waits until it is linked. */
  restartGateway(): Promise<void>;
  close(): Promise<void>;
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** stderr and stdout the process wrote so far (bounded), for tests that scan logs. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const OUTPUT_CAP = 4 * 1024 * 1024;
/** How long the control plane and the gateway get to come up (a loaded machine needs time). */
const STEP_TIMEOUT_MS = 90_000;

function startProcess(bin: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', bin), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < OUTPUT_CAP) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return {
    child,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function runToCompletion(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const proc = startProcess(bin, args, env);
  const code = await new Promise<number | null>((r) => proc.child.once('exit', (c) => r(c)));
  if (code !== 0) {
    throw new GatehouseError(ErrorCodes.CONFIG, `${bin} ${args[0]} failed (exit ${code}): ${proc.output().trim().slice(-500)}`);
  }
  return proc.output();
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, died?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = died?.();
    if (reason) throw new GatehouseError(ErrorCodes.TIMEOUT, `${what}: ${reason}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new GatehouseError(ErrorCodes.TIMEOUT, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exitedReason(proc: ManagedProcess): string | undefined {
  const { exitCode, signalCode } = proc.child;
  if (exitCode === null && signalCode === null) return undefined;
  return `process exited (${exitCode ?? signalCode}): ${proc.output().trim().slice(-800)}`;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-demo-')));
  const ownsDataDir = options.dataDir === undefined;
  const serverDir = join(dataDir, 'server');
  const gatewayDir = join(dataDir, 'gateway');
  const env: NodeJS.ProcessEnv = { GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'info', ...options.env };
  const cleanups: Array<() => Promise<void>> = [];
  const progress = options.onProgress ?? (() => undefined);
  const close = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log.warn({ err }, 'cleanup failed'));
    cleanups.length = 0;
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    // 1. The database the demo gives access to.
    progress('starting PostgreSQL with the sample database');
    const useTls = options.pgTls ?? true;
    const dbCa = useTls ? await CertificateAuthority.create({ commonName: 'Gatehouse demo database CA' }) : undefined;
    const dbCert = dbCa ? await dbCa.issueServerCertificate({ commonName: '127.0.0.1', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }) : undefined;
    const pg = await startPostgres({
      authMethod: options.pgAuthMethod ?? 'scram-sha-256',
      tls: dbCert ? { certPem: dbCert.certPem, keyPem: dbCert.keyPem } : undefined,
    });
    cleanups.push(() => pg.stop());
    const roles = await createSampleDatabase(pg);
    if (options.store === 'postgres') {
      const admin = pg.client();
      await admin.connect();
      await admin.query('CREATE DATABASE gatehouse_store').finally(() => admin.end());
      env.DATABASE_URL = `postgresql://${pg.superuser}:${encodeURIComponent(pg.superuserPassword)}@${pg.host}:${pg.port}/gatehouse_store`;
    }

    // 2. The control plane, bootstrapped before it starts (the embedded store has one writer).
    progress("creating the control plane's store and its admin");
    const email = 'admin@demo.local';
    // Letters and digits only: safe to paste after --password in any shell or CLI parser.
    const password = randomBytes(12).toString('hex');
    const bootstrapOut = await runToCompletion(
      'gatehouse-server.mjs',
      ['bootstrap', '--data-dir', serverDir, '--email', email, '--password', password, '--project', 'demo', '--json'],
      env,
    );
    const boot = JSON.parse(
      bootstrapOut
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop() ?? '{}',
    ) as { projectId?: string };
    if (!boot.projectId) throw new GatehouseError(ErrorCodes.CONFIG, `bootstrap printed no projectId: ${bootstrapOut.slice(-300)}`);
    const projectId = boot.projectId;

    const port = options.port || (await freePort());
    const domain = `http://127.0.0.1:${port}`;
    progress(`starting the control plane on ${domain}`);
    const server = startProcess('gatehouse-server.mjs', ['start', '--data-dir', serverDir, '--host', '127.0.0.1', '--port', String(port)], env);
    cleanups.push(() => server.kill());
    await waitFor(
      'the control plane',
      async () => {
        const res = await request(`${domain}/healthz`);
        await res.body.dump();
        return res.statusCode === 200 ? true : undefined;
      },
      STEP_TIMEOUT_MS,
      () => exitedReason(server),
    );

    // 3. Admin API calls, as a script would make them.
    let token: { value: string; at: number } | undefined;
    const adminToken = async () => {
      if (token && Date.now() - token.at < 5 * 60_000) return token.value;
      const res = await request(`${domain}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      const body = (await res.body.json()) as { accessToken?: string };
      if (res.statusCode !== 200 || !body.accessToken) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, `admin sign-in failed (${res.statusCode})`);
      token = { value: body.accessToken, at: Date.now() };
      return token.value;
    };
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await request(`${domain}/api/v1${path}`, {
        method: method as 'GET',
        headers: { authorization: `Bearer ${await adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.body.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
      if (res.statusCode >= 400) {
        throw new GatehouseError(ErrorCodes.INTERNAL, `${method} ${path} → ${res.statusCode} ${json.error?.code ?? ''}: ${json.error?.message ?? ''}`);
      }
      return json;
    };

    // 4. A gateway, enrolled with a one-time token, dialing out to the control plane.
    progress('enrolling and starting a gateway');
    const created = await api<{ gateway: { id: string }; enrollmentToken: string }>('POST', '/gateways', { name: 'demo-gateway', projectId });
    const gatewayId = created.gateway.id;
    const gatewayArgs = ['start', '--domain', domain, '--data-dir', gatewayDir];
    let gateway = startProcess('gatehouse-gateway.mjs', [...gatewayArgs, '--token', created.enrollmentToken], env);
    const waitLinked = (proc: ManagedProcess) =>
      waitFor(
        'the gateway to link',
        async () => {
          const { gateways } = await api<{ gateways: Array<{ id: string; connected: boolean }> }>('GET', '/gateways');
          return gateways.find((g) => g.id === gatewayId)?.connected ? true : undefined;
        },
        STEP_TIMEOUT_MS,
        () => exitedReason(proc),
      );
    await waitLinked(gateway);
    cleanups.push(() => gateway.kill());

    // 5. The resource and its two accounts.
    progress(`registering ${DEMO_RESOURCE} and its accounts`);
    const { resource } = await api<{ resource: { id: string } }>('POST', `/projects/${projectId}/resources`, {
      name: DEMO_RESOURCE,
      gatewayId,
      host: '127.0.0.1',
      port: pg.port,
      database: SAMPLE_DATABASE,
      ssl: dbCa ? { enabled: true, rejectUnauthorized: true, ca: dbCa.certPem } : { enabled: false, rejectUnauthorized: false },
    });
    for (const name of DEMO_ACCOUNTS) {
      await api('POST', `/resources/${resource.id}/accounts`, {
        name,
        description: name === 'readonly' ? 'SELECT on every table' : 'read and write rows',
        username: roles[name].username,
        password: roles[name].password,
      });
    }

    const stack: Stack = {
      domain,
      projectId,
      email,
      password,
      resource: DEMO_RESOURCE,
      accounts: [...DEMO_ACCOUNTS],
      pg,
      roles,
      dataDir,
      adminToken,
      api,
      server,
      get gateway() {
        return gateway;
      },
      async restartGateway() {
        gateway = startProcess('gatehouse-gateway.mjs', gatewayArgs, env);
        await waitLinked(gateway);
      },
      close,
    };
    return stack;
  } catch (err) {
    await close();
    throw err;
  }
}
