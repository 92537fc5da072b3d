/**
 * The local proxy over a real tunnel: a Mux pair over a real `ws` loopback, the far Mux
 * served by the test gateway (acceptSessionTls + serveClientStream + recorder) in front of a
 * real PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PgServer } from '../../../test/fixtures/postgres.ts';
import { startMuxPair, type MuxPair } from '../tunnel/test-pair.ts';
import { LocalProxy } from './local-proxy.ts';
import { startShopGateway, type TestGateway } from './test-gateway.fixture.ts';

const run = promisify(execFile);
let server: PgServer;
let gateway: TestGateway;
let mux: MuxPair;
let proxy: LocalProxy;
let port: number;

beforeAll(async () => {
  ({ server, gateway } = await startShopGateway());
  mux = await startMuxPair();
  gateway.serveMux(mux.server);
  proxy = new LocalProxy({
    port: 0,
    database: 'shop',
    openStream: (meta) => mux.client.openStream(meta),
    tls: gateway.tls,
    expiresAt: new Date(Date.now() + 3600_000),
  });
  port = await proxy.listen();
});
afterAll(async () => {
  await proxy?.close();
  await mux?.close();
  await gateway?.close();
  await server?.stop();
});

it('psql (sslmode=require) and 20 concurrent node-postgres clients work through a real Mux', async () => {
  const { stdout } = await run(
    'psql',
    ['-X', '-At', `host=127.0.0.1 port=${port} dbname=shop user=me sslmode=require`, '-c', 'SELECT count(*) FROM generate_series(1, 100000)'],
    {
      env: { ...process.env, PGPASSWORD: '' },
    },
  );
  expect(stdout.trim()).toBe('100000');
  const clients = Array.from({ length: 20 }, () => new pg.Client({ host: '127.0.0.1', port, user: 'me', database: 'shop' }));
  await Promise.all(clients.map((c) => c.connect()));
  const rows = await Promise.all(clients.map((c, i) => c.query("SELECT $1::int AS i, repeat('x', 100000) AS big", [i])));
  expect(rows.map((r) => r.rows[0].i)).toEqual(clients.map((_, i) => i));
  expect(rows.every((r) => r.rows[0].big.length === 100_000)).toBe(true);
  await Promise.all(clients.map((c) => c.end()));
  await new Promise((r) => setTimeout(r, 200));
  const recorded = gateway.events.filter((e) => e.type === 'statement' && e.sql.startsWith('SELECT $1::int AS i'));
  expect(recorded).toHaveLength(20);
  expect(proxy.stats().connections).toBe(0);
});

it('a revoked session closes tunnelled connections with 57P01', async () => {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'me', database: 'shop' });
  const errors: { code?: string }[] = [];
  c.on('error', (e: Error & { code?: string }) => errors.push(e));
  const ended = new Promise<void>((r) => c.on('end', () => r()));
  await c.connect();
  const t0 = Date.now();
  proxy.end('revoked');
  await ended;
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(errors[0]).toMatchObject({ code: '57P01', message: 'Gatehouse session was revoked by an administrator' });
});
