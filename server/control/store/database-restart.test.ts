import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../../test/fixtures/postgres.ts';
import { openStore, type Store } from './store.ts';

// The control plane's store must outlive its idle connections: a PostgreSQL restart or a
// failover ends them with FATAL 57P01, which node-postgres reports as an 'error' event.
let server: PgServer;
let store: Store;

beforeAll(async () => {
  server = await startPostgres();
  await server.query('CREATE DATABASE gatehouse');
  const url = `postgres://${server.superuser}:${encodeURIComponent(server.superuserPassword)}@${server.host}:${server.port}/gatehouse`;
  store = await openStore({ kind: 'postgres', connectionString: url });
});
afterAll(async () => {
  await store?.close();
  await server?.stop();
});

it('keeps serving after the database ends its idle connections', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    await store.users.create({ email: 'first@example.com', name: 'First', passwordHash: 'x', isAdmin: true });
    const { rows } = await server.query(
      "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = 'gatehouse' and pid <> pg_backend_pid()",
    );
    expect(rows[0].n).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(uncaught).toEqual([]);
    expect(await store.users.findByEmail('FIRST@example.com')).toMatchObject({ email: 'first@example.com' });
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
