/**
 * Gatehouse as an operator runs it for availability, from real processes: one embedded
 * PostgreSQL holding both the control plane's store (`DATABASE_URL`) and a target database
 * with a counter table, N `gatehouse-server` replicas on that store, a TCP load balancer
 * written here (round robin, skipping upstreams that refuse, optionally routing by the first
 * request line), and a `gatehouse-gateway` dialing the balancer with its health port on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort, startPostgres, type PgServer } from '../fixtures/postgres.ts';
import type { Stack } from '../../server/demo/stack.ts';
import { ROOT } from './helpers.ts';

export const TARGET_DB = 'app';
export const ACCOUNT = 'rw';
export const RESOURCE = 'app-db';

export interface Proc {
  readonly child: ChildProcess;
  output(): string;
  exited(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startProc(bin: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'bin', bin), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (c: Buffer) => {
    if (output.length < 8 << 20) output += c.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exit = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => output,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const force = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exit;
      clearTimeout(force);
    },
  };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * A TCP load balancer: round robin over the upstreams, moving on to the next one when an
 * upstream refuses the connection (what HAProxy or nginx do with a dead backend). `route`
 * may pick an upstream from the first bytes of a connection (the HTTP request line).
 */
export class Balancer {
  private next = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  route: ((firstLine: string) => number | undefined) | undefined;
  /** Which upstream index served each request line, in order. */
  readonly served: Array<{ line: string; upstream: number }> = [];

  constructor(public upstreams: number[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.onClient(client));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }

  private onClient(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      client.pause();
      const line = first.toString('latin1', 0, Math.min(first.length, 200)).split('\r\n')[0];
      const pinned = this.route?.(line);
      const order = pinned !== undefined ? [pinned] : this.upstreams.map((_, i) => (this.next + i) % this.upstreams.length);
      if (pinned === undefined) this.next = (this.next + 1) % this.upstreams.length;
      this.dial(client, first, line, order);
    });
  }

  private dial(client: Socket, first: Buffer, line: string, order: number[]): void {
    const [index, ...rest] = order;
    if (index === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect(this.upstreams[index], '127.0.0.1');
    let connected = false;
    upstream.once('error', () => {
      upstream.destroy();
      if (!connected) this.dial(client, first, line, rest);
      else client.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      this.served.push({ line, upstream: index });
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}

export interface Replica {
  port: number;
  url: string;
  proc: Proc;
}

export interface ClusterStack {
  pg: PgServer;
  lb: Balancer;
  replicas: Replica[];
  gateway: Proc | undefined;
  gatewayId: string;
  healthPort: number;
  /** The target role's password (accounts are created with it). */
  appPassword: string;
  /** Looks like the demo stack to CliUser (domain = the balancer). */
  asStack: Stack;
  /** Calls the API as the admin through the balancer, or on one replica. */
  api<T = unknown>(method: string, path: string, body?: unknown, replica?: number): Promise<{ status: number; body: T }>;
  startReplica(index: number): Promise<void>;
  startGateway(): Proc;
  /** The rows of the counter table, read directly (not through Gatehouse). */
  counterRows(): Promise<number[]>;
  close(): Promise<void>;
}

export async function startClusterStack(opts: { replicas: number; heartbeatMs?: number; startGateway?: boolean }): Promise<ClusterStack> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cluster-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const pg = await startPostgres({ authMethod: 'scram-sha-256' });
  cleanups.push(() => pg.stop());
  await pg.query('create database gatehouse_store');
  await pg.query(`create database ${TARGET_DB}`);
  const appPassword = randomBytes(12).toString('hex');
  await pg.createRole('app_rw', appPassword);
  await pg.query('create table hits (n integer primary key); grant select, insert on hits to app_rw', TARGET_DB);
  const storeUrl = `postgres://${pg.superuser}:${encodeURIComponent(pg.superuserPassword)}@127.0.0.1:${pg.port}/gatehouse_store`;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: storeUrl,
    GATEHOUSE_ROOT_KEY: randomBytes(32).toString('base64'),
    GATEHOUSE_REPLICA_HEARTBEAT_MS: String(opts.heartbeatMs ?? 500),
    GATEHOUSE_LOG_LEVEL: 'info',
  };
  const email = 'admin@cluster.local';
  const password = randomBytes(12).toString('hex');
  const boot = startProc(
    'gatehouse-server.mjs',
    ['bootstrap', '--data-dir', join(dir, 'server'), '--email', email, '--password', password, '--project', 'ops', '--json'],
    env,
  );
  await until('bootstrap', () => boot.exited(), 60_000);
  const projectId = (
    JSON.parse(
      boot
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{"userId"'))
        .pop() ?? '{}',
    ) as { projectId?: string }
  ).projectId;
  if (!projectId) throw new Error(`bootstrap failed: ${boot.output().slice(-500)}`);

  const ports = await Promise.all(Array.from({ length: opts.replicas }, () => freePort()));
  const lb = new Balancer(ports);
  await lb.start();
  cleanups.push(() => lb.close());
  const replicas: Replica[] = ports.map((port) => ({ port, url: `http://127.0.0.1:${port}`, proc: undefined as unknown as Proc }));

  const startReplica = async (index: number) => {
    const r = replicas[index];
    r.proc = startProc('gatehouse-server.mjs', ['start', '--data-dir', join(dir, `server-${index}`), '--host', '127.0.0.1', '--port', String(r.port)], env);
    await until(
      `replica ${index} to listen`,
      async () => {
        if (r.proc.exited()) throw new Error(`replica ${index} exited: ${r.proc.output().slice(-800)}`);
        const res = await request(`${r.url}/healthz`);
        await res.body.dump();
        return res.statusCode === 200;
      },
      60_000,
    );
  };
  cleanups.push(async () => {
    for (const r of replicas) await r.proc?.kill();
  });

  let token: string | undefined;
  const api = async <T>(method: string, path: string, body?: unknown, replica?: number) => {
    const base = replica === undefined ? lb.url : replicas[replica].url;
    if (!token) {
      const res = await request(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      token = ((await res.body.json()) as { accessToken: string }).accessToken;
    }
    const res = await request(`${base}/api/v1${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, body: (await res.body.json().catch(() => ({}))) as T };
  };

  try {
    for (let i = 0; i < replicas.length; i += 1) await startReplica(i);
    const created = await api<{ gateway: { id: string }; enrollmentToken: string }>('POST', '/gateways', { name: 'edge', projectId });
    const gatewayId = created.body.gateway.id;
    const healthPort = await freePort();
    const gatewayDir = join(dir, 'gateway');
    const enroll = startProc('gatehouse-gateway.mjs', ['enroll', '--domain', lb.url, '--token', created.body.enrollmentToken, '--data-dir', gatewayDir], env);
    await until('gateway enrollment', () => enroll.exited(), 30_000);
    if (enroll.child.exitCode !== 0) throw new Error(`enroll failed: ${enroll.output()}`);

    const stack: ClusterStack = {
      pg,
      lb,
      replicas,
      gateway: undefined,
      gatewayId,
      healthPort,
      appPassword,
      asStack: { domain: lb.url, email, password, projectId, resource: RESOURCE } as unknown as Stack,
      api,
      startReplica,
      startGateway() {
        const proc = startProc('gatehouse-gateway.mjs', ['start', '--domain', lb.url, '--data-dir', gatewayDir, '--health-port', String(healthPort)], {
          ...env,
          DATABASE_URL: '',
        });
        stack.gateway = proc;
        return proc;
      },
      async counterRows() {
        const { rows } = await pg.query('select n from hits order by n', TARGET_DB);
        return rows.map((r: { n: number }) => r.n);
      },
      async close() {
        await stack.gateway?.kill();
        for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
    cleanups.push(() => stack.gateway?.kill() ?? Promise.resolve());
    if (opts.startGateway !== false) {
      stack.startGateway();
      await until(
        'the gateway to link',
        async () =>
          (await api<{ gateways: Array<{ id: string; connected: boolean }> }>('GET', '/gateways')).body.gateways.find((g) => g.id === gatewayId)?.connected,
        30_000,
      );
    }
    const { body } = await api<{ resource: { id: string } }>('POST', `/projects/${projectId}/resources`, {
      name: RESOURCE,
      gatewayId,
      host: '127.0.0.1',
      port: pg.port,
      database: TARGET_DB,
      ssl: { enabled: false, rejectUnauthorized: false },
    });
    await api('POST', `/resources/${body.resource.id}/accounts`, { name: ACCOUNT, username: 'app_rw', password: appPassword });
    return stack;
  } catch (err) {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The gateway's health report (`--health-port`). */
export async function gatewayHealth(port: number): Promise<{
  status: number;
  body: { status: string; linked: boolean; links: Array<{ state: string; replicaId?: string; role: string }>; events: { unacked: number } };
}> {
  const res = await request(`http://127.0.0.1:${port}/healthz`);
  return { status: res.statusCode, body: (await res.body.json()) as never };
}

/** Inserts 1, 2, 3, … into the counter table through a session's local port, reconnecting on errors. */
export class CounterWorkload {
  private next: number;
  private stopped = false;
  private running: Promise<void> | undefined;
  /** Values whose INSERT the client saw succeed, with when. */
  readonly ok: Array<{ n: number; at: number }> = [];
  errors = 0;

  /** `from`: the first value is from + 1 (two workloads on one table use apart ranges). */
  constructor(
    private readonly url: string,
    from = 0,
  ) {
    this.next = from;
  }

  start(): this {
    this.running = this.loop();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Resolves with the time of the first success after `since`. */
  firstOkAfter(since: number, timeoutMs = 20_000): Promise<number> {
    return until('a successful query', () => this.ok.find((o) => o.at > since)?.at, timeoutMs, 20);
  }

  private async loop(): Promise<void> {
    const { default: pg } = await import('pg');
    let client: InstanceType<typeof pg.Client> | undefined;
    while (!this.stopped) {
      try {
        if (!client) {
          const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 3_000 });
          c.on('error', () => undefined);
          client = c;
          await c.connect();
        }
        const n = ++this.next;
        await client.query(`insert into hits (n) values (${n})`);
        this.ok.push({ n, at: Date.now() });
        await new Promise((r) => setTimeout(r, 10));
      } catch {
        this.errors += 1;
        await client?.end().catch(() => undefined);
        client = undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await client?.end().catch(() => undefined);
  }
}

type LoggedEvent = { seq: number; type: string; sql?: string; outcome?: { status: string } };

/** Every event of a session, following `next`. */
export async function sessionEvents(stack: ClusterStack, sessionId: string): Promise<LoggedEvent[]> {
  const all: LoggedEvent[] = [];
  let after = 0;
  for (;;) {
    const { status, body } = await stack.api<{ events: LoggedEvent[]; next?: number }>('GET', `/sessions/${sessionId}/logs?after=${after}&limit=1000`);
    if (status !== 200) throw new Error(`logs: HTTP ${status}`);
    all.push(...body.events);
    if (body.next === undefined || body.events.length === 0) return all;
    after = body.next;
  }
}

/** The counter values of the successful INSERTs in a session log. */
export function loggedInserts(events: LoggedEvent[]): number[] {
  const values: number[] = [];
  for (const e of events) {
    const m = e.type === 'statement' && e.outcome?.status === 'ok' ? /^insert into hits \(n\) values \((\d+)\)$/.exec(e.sql ?? '') : null;
    if (m) values.push(Number(m[1]));
  }
  return values.sort((a, b) => a - b);
}
