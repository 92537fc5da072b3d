/**
 * The demo's sample database: a small shop with customers, products and orders, and two
 * login roles (read-only and read-write) with random passwords stored as SCRAM verifiers.
 */
import { randomBytes } from 'node:crypto';
import type { PgServer } from './embedded-postgres.ts';

export const SAMPLE_DATABASE = 'shop';

export interface SampleRoles {
  readonly: { username: string; password: string };
  readwrite: { username: string; password: string };
}

const SCHEMA = `
CREATE TABLE customers (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE products (
  id serial PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents >= 0)
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers(id),
  product_id integer NOT NULL REFERENCES products(id),
  quantity integer NOT NULL CHECK (quantity > 0),
  ordered_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO customers (name, email) VALUES
  ('Ada Lovelace', 'ada@example.com'),
  ('Grace Hopper', 'grace@example.com'),
  ('Edsger Dijkstra', 'edsger@example.com'),
  ('Barbara Liskov', 'barbara@example.com');
INSERT INTO products (sku, name, price_cents) VALUES
  ('KB-01', 'Mechanical keyboard', 12900),
  ('MS-02', 'Trackball mouse', 5900),
  ('MN-03', '27" monitor', 32900);
INSERT INTO orders (customer_id, product_id, quantity)
  SELECT c.id, p.id, 1 + ((c.id + p.id) % 3) FROM customers c CROSS JOIN products p WHERE (c.id + p.id) % 2 = 0;
`;

function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Creates the `shop` database, its tables and rows, and the two roles. */
export async function createSampleDatabase(pg: PgServer): Promise<SampleRoles> {
  const roles: SampleRoles = {
    readonly: { username: 'readonly', password: randomPassword() },
    readwrite: { username: 'readwrite', password: randomPassword() },
  };
  await pg.query(`CREATE DATABASE ${SAMPLE_DATABASE}`);
  await pg.query(SCHEMA, SAMPLE_DATABASE);
  await pg.createRole(roles.readonly.username, roles.readonly.password);
  await pg.createRole(roles.readwrite.username, roles.readwrite.password);
  await pg.query(
    `GRANT CONNECT ON DATABASE ${SAMPLE_DATABASE} TO readonly, readwrite;
     GRANT USAGE ON SCHEMA public TO readonly, readwrite;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO readonly;
     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO readwrite;
     GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO readwrite;`,
    SAMPLE_DATABASE,
  );
  return roles;
}
