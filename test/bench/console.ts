/**
 * The web console's budgets (issue 11), measured and printed, not asserted:
 *   - first load: gzipped JavaScript the console page loads before it can show anything
 *     (budget 300 KB), built by the server's own build function and gzipped as it serves it;
 *   - the session log view's first page of a 100,000-event session: server time for
 *     `GET /sessions/:id/logs?limit=500` (budget 300 ms), on the default embedded store,
 *     median and worst of 20 calls over loopback (an upper bound of the server's time);
 *   - the Sessions view's pages of a 10,000-session list (`GET /sessions?limit=100`, keyset
 *     cursor): the first page and one 5,000 rows deep, median of 10 calls each.
 * Run alone with `node --import tsx test/bench/console.ts`, or as a step of `npm run bench`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildConsole, CONSOLE_HTML } from '../../server/control/console/build.ts';
import { ADMIN, call, login, startTestPlane } from '../../server/control/test/helpers.ts';

const EVENTS = 100_000;
const FIRST_PAGE = 500;
const SESSIONS = 10_000;
const SESSION_PAGE = 100;

export async function firstLoadJsGzipBytes(dir: string): Promise<{ bytes: number; files: string[] }> {
  const html = await readFile(join(dir, CONSOLE_HTML), 'utf8');
  const files = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="(\/[^"]+\.js)"/g)].map((m) => m[1]);
  let bytes = 0;
  for (const f of files) bytes += gzipSync(await readFile(join(dir, f)), { level: 9 }).length;
  return { bytes, files };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface ConsoleTimes {
  medianMs: number;
  worstMs: number;
  firstMs: number;
  searchMs: number;
  insertS: number;
  sessionsFirstMs: number;
  sessionsDeepMs: number;
}

export async function logFirstPageMs(): Promise<ConsoleTimes> {
  const t = await startTestPlane({ expirySweepMs: 60_000 });
  try {
    const admin = (await login(t.url, ADMIN.email, ADMIN.password)).accessToken;
    const gw = await call(t.url, 'POST', '/api/v1/gateways', { token: admin, body: { name: 'bench-gw', projectId: t.projectId } });
    const resource = await call(t.url, 'POST', `/api/v1/projects/${t.projectId}/resources`, {
      token: admin,
      body: { name: 'bench', gatewayId: gw.body.gateway.id, host: '127.0.0.1', database: 'bench' },
    });
    const account = await call(t.url, 'POST', `/api/v1/resources/${resource.body.resource.id}/accounts`, {
      token: admin,
      body: { name: 'ro', username: 'ro', password: 'x' },
    });
    const me = await call(t.url, 'GET', '/api/v1/me', { token: admin });
    /** A session of the admin's on the bench account, written straight to the store, created at `createdAt`. */
    const addSession = (id: string, createdAt: Date) =>
      t.plane.store.sessions.create(
        {
          id,
          projectId: t.projectId,
          userId: me.body.user.id,
          userEmail: ADMIN.email,
          resourceId: resource.body.resource.id,
          resourceName: 'bench',
          database: 'bench',
          accountId: account.body.account.id,
          accountName: 'ro',
          username: 'ro',
          gatewayId: gw.body.gateway.id,
          expiresAt: new Date(Date.now() + 3600_000),
        },
        createdAt,
      );
    const sessionId = randomUUID();
    await addSession(sessionId, new Date());
    const started = Date.now();
    const at = Date.now() - EVENTS * 10;
    for (let from = 1; from <= EVENTS; from += 2000) {
      const batch = [];
      for (let seq = from; seq < from + 2000 && seq <= EVENTS; seq++) {
        batch.push({
          seq,
          sessionId,
          connectionId: `c${Math.floor(seq / 1000)}`,
          at: new Date(at + seq * 10).toISOString(),
          type: 'statement',
          protocol: 'simple',
          sql: `select * from orders where id = ${seq}`,
          durationMs: 0.4,
          outcome: { status: 'ok', tag: 'SELECT 1', rows: 1 },
        });
      }
      await t.plane.store.sessionEvents.insert(gw.body.gateway.id, batch);
    }
    const insertS = (Date.now() - started) / 1000;
    // The client's pooled connection may have idled out during the load: one warm-up call.
    await call(t.url, 'GET', '/healthz').catch(() => undefined);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const page = await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs?after=0&limit=${FIRST_PAGE}`, { token: admin });
      times.push(performance.now() - t0);
      if (page.status !== 200 || page.body.events.length !== FIRST_PAGE) throw new Error(`unexpected logs answer ${page.status}`);
    }
    const t1 = performance.now();
    await call(t.url, 'GET', `/api/v1/sessions/${sessionId}/logs/search?q=${encodeURIComponent('id = 99999')}&limit=${FIRST_PAGE}`, { token: admin });
    const searchMs = performance.now() - t1;
    const sorted = [...times].sort((a, b) => a - b);

    // The Sessions view: a long list paged with the keyset cursor.
    const base = Date.now() - SESSIONS * 1000;
    for (let i = 0; i < SESSIONS; i++) await addSession(randomUUID(), new Date(base + i * 1000));
    // The pooled keep-alive connection idled out while the sessions were written (a reset on reuse): one warm-up call.
    await call(t.url, 'GET', '/healthz').catch(() => undefined);
    const sessionsPage = async (cursor?: string): Promise<{ ms: number; next: string | null }> => {
      const t0 = performance.now();
      const page = await call(
        t.url,
        'GET',
        `/api/v1/sessions?projectId=${t.projectId}&limit=${SESSION_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: admin },
      );
      const ms = performance.now() - t0;
      if (page.status !== 200 || page.body.sessions.length !== SESSION_PAGE) throw new Error(`unexpected sessions answer ${page.status}`);
      return { ms, next: page.body.nextCursor as string | null };
    };
    const firsts: number[] = [];
    for (let i = 0; i < 10; i++) firsts.push((await sessionsPage()).ms);
    let cursor: string | null | undefined;
    for (let i = 0; i < SESSIONS / 2 / SESSION_PAGE; i++) cursor = (await sessionsPage(cursor ?? undefined)).next;
    const deeps: number[] = [];
    for (let i = 0; i < 10; i++) deeps.push((await sessionsPage(cursor ?? undefined)).ms);
    return {
      firstMs: times[0],
      medianMs: sorted[Math.floor(sorted.length / 2)],
      worstMs: sorted[sorted.length - 1],
      searchMs,
      insertS,
      sessionsFirstMs: median(firsts),
      sessionsDeepMs: median(deeps),
    };
  } finally {
    await t.close();
  }
}

export async function consoleBench(print: (line: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-console-bench-'));
  try {
    await buildConsole(join(dir, 'dist'));
    const js = await firstLoadJsGzipBytes(join(dir, 'dist'));
    print(`console first load: ${(js.bytes / 1024).toFixed(1)} KB of gzipped JavaScript in ${js.files.length} file(s) (budget 300 KB)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const log = await logFirstPageMs();
  print(
    `console session log, first page (${FIRST_PAGE} events) of a ${EVENTS.toLocaleString('en')}-event session: median ${log.medianMs.toFixed(1)} ms, worst ${log.worstMs.toFixed(1)} ms, first ${log.firstMs.toFixed(1)} ms of server time over loopback (budget 300 ms; embedded store; ${log.insertS.toFixed(0)} s to load the events)`,
  );
  print(`console session log search across the ${EVENTS.toLocaleString('en')} events: ${log.searchMs.toFixed(1)} ms`);
  print(
    `console sessions list of ${SESSIONS.toLocaleString('en')} sessions, ${SESSION_PAGE} a page: first page median ${log.sessionsFirstMs.toFixed(1)} ms, a page ${(SESSIONS / 2).toLocaleString('en')} rows deep median ${log.sessionsDeepMs.toFixed(1)} ms (keyset cursor; embedded store)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await consoleBench((line) => process.stdout.write(`${line}\n`));
  process.exit(0);
}
