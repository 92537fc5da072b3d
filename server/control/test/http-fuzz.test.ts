/**
 * issue 16: the control plane's HTTP server under random input. A seeded generator walks
 * every route of the API table (and random paths) with random methods, headers, tokens (valid
 * admin, valid member, forged, none), path ids, queries and JSON (or not-JSON) bodies, plus
 * WebSocket upgrade attempts, against a real `gatehouse-server` process. Each request must
 * get an HTTP answer below 500 (503 only for "no gateway linked"), no connection may close
 * without one, and the process must still be alive and serving /healthz at the end.
 *
 * Reproduce a failure with GATEHOUSE_FUZZ_SEED=<seed printed in the failure>. Bounded: at
 * most REQUESTS requests within BUDGET_MS, after which it stops and checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { apiRoutes } from '../app.ts';
import type { AnyRoute } from '../api/route.ts';
import type { Services } from '../api/services.ts';
import { call, login } from './helpers.ts';
import { rawExchange, rawRequest, startServerProcess, type RawOutcome, type ServerProcess } from './raw-http.ts';

const SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? 0x16_16);
/** Longer local runs: GATEHOUSE_FUZZ_REQUESTS=50000 GATEHOUSE_FUZZ_BUDGET_MS=600000. */
const REQUESTS = Number(process.env.GATEHOUSE_FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 8;
const BUDGET_MS = Number(process.env.GATEHOUSE_FUZZ_BUDGET_MS ?? 40_000);
const MIN_REQUESTS = 300;
/**
 * The only 5xx a caller may see, both 503 by design: no gateway is linked for the resource (the
 * test's gateway never dials in), and email codes asked of a server without SMTP.
 */
const ALLOWED_5XX = new Set(['GATEHOUSE_ERR_GATEWAY_UNAVAILABLE', 'GATEHOUSE_ERR_CONFIG']);

/** mulberry32: small, seeded, good enough to pick inputs. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

interface World {
  server: ServerProcess;
  adminToken: string;
  memberToken: string;
  ids: string[];
}

let world: World;

/** The route table as the server builds it (handlers are never called here). */
const ROUTES: AnyRoute[] = apiRoutes(new Proxy({}, { get: () => ({}) }) as unknown as Services, { metricsToken: 'fuzz-metrics-token-0000' });

beforeAll(async () => {
  const server = await startServerProcess(['--metrics-token', 'fuzz-metrics-token-0000']);
  const admin = server.adminToken;
  const { projectId, url } = server;
  const post = async (path: string, body: unknown) => (await call(url, 'POST', path, { token: admin, body })).body;
  const member = await post('/api/v1/users', { email: 'fuzz-member@example.com', password: 'member password 1' });
  await post(`/api/v1/projects/${projectId}/members`, { userId: member.user.id, role: 'member' });
  const gateway = await post('/api/v1/gateways', { name: 'fuzz-gw', projectId });
  await call(url, 'POST', '/api/v1/gateways/enroll', { body: { token: gateway.enrollmentToken, publicKeyPem: generateKeyPair().publicKeyPem } });
  const resource = await post(`/api/v1/projects/${projectId}/resources`, {
    name: 'fuzz-db',
    gatewayId: gateway.gateway.id,
    host: '127.0.0.1',
    database: 'shop',
  });
  const account = await post(`/api/v1/resources/${resource.resource.id}/accounts`, { name: 'ro', username: 'ro', password: 'ro password' });
  const group = await post(`/api/v1/projects/${projectId}/groups`, { name: 'fuzzers' });
  const policy = await post(`/api/v1/projects/${projectId}/policies`, {
    name: 'fuzz',
    users: [member.user.id],
    accounts: [account.account.id],
    maxDurationSeconds: 3600,
  });
  const memberToken = (await login(url, 'fuzz-member@example.com', 'member password 1')).accessToken;
  world = {
    server,
    adminToken: admin,
    memberToken,
    ids: [projectId, member.user.id, gateway.gateway.id, resource.resource.id, account.account.id, group.group.id, policy.policy.id, 'fuzz-db', 'ro'],
  };
}, 120_000);

afterAll(async () => {
  await world?.server.close();
});

// ---- input generators --------------------------------------------------------------

const STRINGS = [
  '',
  'a',
  'fuzz-db',
  'ro',
  '0',
  '-1',
  '1e309',
  'null',
  'true',
  '☃',
  'é',
  '👩‍💻',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '../../etc/passwd',
  "' or 1=1 --",
  '%',
  '%00',
  '__proto__',
  'constructor',
  '<script>',
  '\r\nX-Injected: 1',
  ' ',
  '2026-12-02T18:00:00Z',
  'not-a-date',
  'admin@example.com',
  'x'.repeat(300),
];
const RAW_SEGMENTS = ['%', '%z', '%zz', '%ff', '%c3', '%c3%28', '%e2%82', '%00', '%2F', '%25', '..', '.', '', '%u0041', '%%'];
const QUERY_KEYS = ['projectId', 'status', 'limit', 'after', 'from', 'to', 'actor', 'action', 'mine', 'maxSeconds', 'x', '__proto__', 'limit[]'];
const BODY_KEYS = [
  'name',
  'email',
  'password',
  'role',
  'userId',
  'projectId',
  'token',
  'refreshToken',
  'publicKeyPem',
  'duration',
  'resource',
  'account',
  'host',
  'port',
  'database',
  'ssl',
  'gatewayId',
  'code',
  'mfaToken',
  'method',
  'enforce',
  'disabled',
  'isAdmin',
  'users',
  'groups',
  'accounts',
  'maxDurationSeconds',
  'requireApproval',
  'reason',
  'comment',
  'username',
  'description',
  'requireMfa',
  'accessRequestId',
  'mfa',
  '__proto__',
  'constructor',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const ODD_METHODS = ['TRACE', 'CONNECT', 'FOO', 'get', 'M-SEARCH', 'PROPFIND'];

function fuzzString(r: Rng, world: World): string {
  if (r.chance(0.3)) return r.pick(world.ids);
  if (r.chance(0.1)) return 'y'.repeat(r.int(20_000));
  if (r.chance(0.1)) return String.fromCharCode(...Array.from({ length: 1 + r.int(12) }, () => r.int(0x10000)));
  return r.pick(STRINGS);
}

function fuzzValue(r: Rng, world: World, depth = 0): unknown {
  const roll = r.int(depth > 2 ? 6 : 9);
  switch (roll) {
    case 0:
    case 1:
    case 2:
      return fuzzString(r, world);
    case 3:
      return r.pick([0, -1, 1, 3600, 65536, 2 ** 53, -(2 ** 31), 1.5, 1e308]);
    case 4:
      return r.chance(0.5);
    case 5:
      return null;
    case 6:
      return Array.from({ length: r.int(4) }, () => fuzzValue(r, world, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = r.int(4); i > 0; i--) obj[r.pick(BODY_KEYS)] = fuzzValue(r, world, depth + 1);
      return obj;
    }
  }
}

/** A path segment as raw bytes: clean-encoded, broken escapes, or raw non-ASCII. */
function fuzzSegment(r: Rng, world: World): Buffer {
  const roll = r.next();
  if (roll < 0.55) return Buffer.from(encodePart(fuzzString(r, world)), 'latin1');
  if (roll < 0.9) return Buffer.from(`${r.pick(['', 'ab', r.pick(world.ids)])}${r.pick(RAW_SEGMENTS)}`, 'latin1');
  return Buffer.from(r.pick(['é', '☃', 'a b', '\u0000', '\t', '"', '{}', '#x']), 'utf8');
}

/** encodeURIComponent, except that lone surrogates (which it refuses) are sent as UTF-8 of U+FFFD. */
function encodePart(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '\ufffd'));
  }
}

function shapeKeys(schema: z.ZodType | undefined): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

interface FuzzCase {
  description: string;
  bytes: Buffer;
}

function fuzzCase(r: Rng, world: World, index: number): FuzzCase {
  const route = r.chance(0.88) ? r.pick(ROUTES) : undefined;
  // Path: the route's pattern with its parameters filled, or something random.
  const segments: Buffer[] = [];
  if (route) {
    for (const part of route.path.split('/').slice(1)) segments.push(part.startsWith(':') ? fuzzSegment(r, world) : Buffer.from(part, 'latin1'));
  } else {
    segments.push(Buffer.from(r.pick(['api', 'api/v1', '', '.', '..', 'metrics', 'healthz']), 'latin1'));
    for (let i = r.int(5); i > 0; i--) segments.push(fuzzSegment(r, world));
  }
  let target = Buffer.concat([Buffer.from(r.chance(0.05) ? '//' : '/'), ...segments.flatMap((s, i) => (i === 0 ? [s] : [Buffer.from('/'), s]))]);
  if (r.chance(0.5)) {
    const keys = [...shapeKeys(route?.query), ...QUERY_KEYS];
    const pairs = Array.from(
      { length: 1 + r.int(4) },
      () => `${encodePart(r.pick(keys))}=${r.chance(0.8) ? encodePart(fuzzString(r, world)) : r.pick(RAW_SEGMENTS)}`,
    );
    target = Buffer.concat([target, Buffer.from(`?${pairs.join('&')}`, 'latin1')]);
  }
  if (r.chance(0.01)) target = Buffer.from(r.pick(['*', 'http://evil.example/healthz', 'healthz', '/%', '//%25']), 'latin1');

  const method = r.chance(0.85) ? (route?.method ?? r.pick(METHODS)) : r.chance(0.8) ? r.pick(METHODS) : r.pick(ODD_METHODS);
  const headers: Record<string, string> = {};
  const auth = r.next();
  if (auth < 0.4) headers.Authorization = `Bearer ${world.adminToken}`;
  else if (auth < 0.65) headers.Authorization = `Bearer ${world.memberToken}`;
  else if (auth < 0.8)
    headers.Authorization = r.pick([
      `Bearer ${world.adminToken.slice(0, -1)}A`,
      'Bearer ',
      'Bearer a.b',
      'Basic YTpi',
      `Bearer ${'x'.repeat(5000)}`,
      `bearer ${world.adminToken}`,
      'Bearer ghm.x.y',
    ]);
  if (r.chance(0.1)) headers['X-Forwarded-For'] = r.pick(['1.2.3.4', 'garbage, , ::1', '', '300.1.1.1']);
  if (r.chance(0.05)) headers.Accept = r.pick(['*/*', 'text/html', '\u00ff']);

  let body: Buffer | undefined;
  const bodyRoll = r.next();
  if (bodyRoll < 0.6 || (route?.body !== undefined && bodyRoll < 0.85)) {
    const value: Record<string, unknown> = {};
    for (const key of shapeKeys(route?.body)) if (r.chance(0.7)) value[key] = fuzzValue(r, world);
    for (let i = r.int(3); i > 0; i--) value[r.pick(BODY_KEYS)] = fuzzValue(r, world);
    const kind = r.next();
    if (kind < 0.75) body = Buffer.from(JSON.stringify(r.chance(0.95) ? value : fuzzValue(r, world)), 'utf8');
    else if (kind < 0.85) body = Buffer.from(r.pick(['{', '{"a":', 'nul', '[1,]', '"\\ud800"', '{"name":"\\u0000"}', '']), 'utf8');
    else if (kind < 0.92) body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    else body = Buffer.from(`${'['.repeat(3000 + r.int(50_000))}${']'.repeat(r.chance(0.5) ? 0 : 3000)}`);
    headers['Content-Type'] = r.chance(0.85)
      ? r.pick(['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'])
      : r.pick(['text/plain', 'application/x-www-form-urlencoded', '']);
  }
  if (r.chance(0.05)) {
    headers.Upgrade = 'websocket';
    headers.Connection = 'Upgrade';
    headers['Sec-WebSocket-Version'] = r.pick(['13', '8', 'x']);
    headers['Sec-WebSocket-Key'] = r.pick(['dGhlIHNhbXBsZSBub25jZQ==', 'short', '']);
    if (r.chance(0.5))
      target = Buffer.from(
        r.pick(['/api/v1/gateways/link', `/api/v1/sessions/${r.pick(world.ids)}/tunnel`, '/api/v1/sessions/%00/tunnel', '//%25', '/%']),
        'latin1',
      );
  }
  const bytes = rawRequest(method, target, headers, body);
  const shown = bytes
    .subarray(0, 300)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return { description: `#${index} ${shown}${bytes.length > 300 ? `… (${bytes.length} bytes)` : ''}`, bytes };
}

function verdict(outcome: RawOutcome): string | undefined {
  if (outcome.kind === 'dropped') return `connection closed without a response (got ${JSON.stringify(outcome.received)})`;
  if (outcome.kind === 'silent') return 'no response';
  if (outcome.status < 500) return undefined;
  const code = /"code":"([A-Z_]+)"/.exec(outcome.body)?.[1];
  if (outcome.status === 503 && code !== undefined && ALLOWED_5XX.has(code)) return undefined;
  return `answered ${outcome.status} ${code ?? ''} ${outcome.body.slice(0, 200)}`;
}

describe('issue 16: HTTP fuzz of the control plane (every route, with and without a valid token)', () => {
  it(
    `answers every random request below 500, drops none, and stays up (seed ${SEED})`,
    async () => {
      const r = prng(SEED);
      const cases = Array.from({ length: REQUESTS }, (_, i) => fuzzCase(r, world, i));
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      const deadline = Date.now() + BUDGET_MS;
      let next = 0;
      let sent = 0;
      const worker = async () => {
        while (next < cases.length && Date.now() < deadline && world.server.alive()) {
          const c = cases[next++];
          const outcome = await rawExchange(world.server.port, c.bytes, 20_000, 1000);
          sent++;
          if (outcome.kind === 'answered') statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
          const problem = verdict(outcome);
          if (problem) failures.push(`${problem}\n    request ${c.description}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));

      const summary = `seed ${SEED}: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`;
      expect(world.server.alive(), `${summary}\nserver exited:\n${world.server.output().slice(-3000)}`).toBe(true);
      expect(failures.slice(0, 10), summary).toEqual([]);
      expect(sent, summary).toBeGreaterThanOrEqual(MIN_REQUESTS);
      // Every route was reached and many inputs were refused as a caller's error, not served by accident.
      expect((statuses.get(400) ?? 0) + (statuses.get(401) ?? 0) + (statuses.get(404) ?? 0), summary).toBeGreaterThan(sent / 3);
      const health = await call(world.server.url, 'GET', '/healthz');
      expect(health.status).toBe(200);
      expect(world.server.output()).not.toMatch(/"msg":"(request failed|request handling failed|WebSocket upgrade failed)"/);
    },
    BUDGET_MS + 80_000,
  );
});
