/**
 * A session ends when it should and nothing recorded is lost: expiry and revocation close
 * open connections within a second with 57P01 and refuse new ones with a clear FATAL; a
 * gateway killed mid-session loses no event and serves new connections once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { CliUser, waitUntil } from './helpers.ts';

let stack: Stack;
let user: CliUser;

beforeAll(async () => {
  stack = await startStack({ pgTls: false });
  user = await CliUser.login(stack);
}, 120_000);

afterAll(async () => {
  await user?.close();
  await stack?.close();
});

type PgError = { code?: string; message?: string };

/** Resolves with the error the client saw when its connection was closed under it. */
function whenClosed(client: pg.Client): Promise<{ at: number; error?: PgError }> {
  return new Promise((resolve) => {
    let error: PgError | undefined;
    // pg reports the server's FATAL first, then "Connection terminated unexpectedly": keep the first.
    client.on('error', (e: PgError) => (error ??= e));
    client.on('end', () => resolve({ at: Date.now(), error }));
  });
}

describe('session lifecycle', () => {
  it('at expiry, open connections get 57P01 within a second and new ones a clear FATAL', async () => {
    const access = await user.access(stack, { account: 'readonly', duration: '12s' });
    const client = new pg.Client({ connectionString: access.url });
    await client.connect();
    await client.query('select 1');
    const closed = whenClosed(client);
    const expiresAt = new Date(access.expiresAt).getTime();
    const { at, error } = await closed;
    expect(at - expiresAt).toBeLessThan(1_000);
    expect(error?.code).toBe('57P01');
    expect(error?.message).toMatch(/expired/i);

    const late = new pg.Client({ connectionString: access.url });
    const err = await late.connect().then<undefined, PgError>(
      () => undefined,
      (e: PgError) => e,
    );
    // Not "connection refused": the port keeps answering with the reason for a moment.
    expect(err?.code).toBe('57P01');
    expect(err?.message).toMatch(/expired/i);
    expect(await access.exited).toBe(0);
    expect(access.stderr).toMatch(/expired/i);
    const { session } = await stack.api<{ session: { status: string } }>('GET', `/sessions/${access.sessionId}`);
    expect(session.status).toBe('expired');
  }, 40_000);

  it('an admin revoking a session closes its connections within a second', async () => {
    const access = await user.access(stack, { account: 'readonly', duration: '1h' });
    const clients = [new pg.Client({ connectionString: access.url }), new pg.Client({ connectionString: access.url })];
    await Promise.all(clients.map((c) => c.connect()));
    const closed = clients.map(whenClosed);
    const busy = clients[1].query('select pg_sleep(20)').catch((e: PgError) => e);
    await new Promise((r) => setTimeout(r, 200));

    const revokedAt = Date.now();
    await stack.api('POST', `/sessions/${access.sessionId}/revoke`);
    const results = await Promise.all(closed);
    for (const r of results) expect(r.at - revokedAt).toBeLessThan(1_000);
    // The idle connection hears it as a connection error, the busy one as its query's error.
    expect(results[0].error?.code).toBe('57P01');
    expect(results[0].error?.message).toMatch(/revoked/i);
    const busyError = (await busy) as PgError;
    expect(busyError.code).toBe('57P01');
    expect(busyError.message).toMatch(/revoked/i);
    expect(await access.exited).toBe(0);
    const { session } = await stack.api<{ session: { status: string } }>('GET', `/sessions/${access.sessionId}`);
    expect(session.status).toBe('revoked');
  }, 30_000);

  it('a gateway killed mid-session loses no recorded event, and serves new connections once back', async () => {
    const access = await user.access(stack, { account: 'readwrite', duration: '1h' });
    const client = new pg.Client({ connectionString: access.url });
    // the connection may drop before the next query is sent (its own socket closes at once)
    client.on('error', () => undefined);
    await client.connect();
    for (let i = 0; i < 20; i++) await client.query(`select ${i} as before_kill`);

    // SIGKILL: no chance to flush or say goodbye.
    await stack.gateway.kill('SIGKILL');
    const lost = await client.query('select 1').then(
      () => undefined,
      (e: PgError) => e,
    );
    expect(lost).toBeDefined();
    await client.end().catch(() => undefined);

    await stack.restartGateway();
    const after = await waitUntil(
      'a new connection through the restarted gateway',
      async () => {
        const c = new pg.Client({ connectionString: access.url });
        try {
          await c.connect();
          const { rows } = await c.query('select 99 as after_restart');
          await c.end();
          return rows[0].after_restart as number;
        } catch {
          await c.end().catch(() => undefined);
          return undefined;
        }
      },
      20_000,
    );
    expect(after).toBe(99);

    type Event = { seq: number; type: string; sql?: string };
    const events = await waitUntil(
      'all 20 statements recorded before the kill',
      async () => {
        const res = await stack.api<{ events: Event[] }>('GET', `/sessions/${access.sessionId}/logs?limit=1000`);
        const before = res.events.filter((e) => e.sql?.includes('before_kill'));
        return before.length >= 20 && res.events.some((e) => e.sql?.includes('after_restart')) ? res.events : undefined;
      },
      20_000,
    );
    const before = events.filter((e) => e.sql?.includes('before_kill'));
    expect(before.map((e) => e.sql)).toEqual(Array.from({ length: 20 }, (_, i) => `select ${i} as before_kill`));
    // Exactly once: no duplicates from resending after the restart.
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
    await access.stop();
  }, 60_000);
});
