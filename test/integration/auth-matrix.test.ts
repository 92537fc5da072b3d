/**
 * The gateway authenticates to real PostgreSQL servers configured for SCRAM, MD5 and
 * cleartext, with and without TLS (custom CA, reject-unauthorized on and off); a client
 * with no password gets in as the account, and every failure reaches it as a clear FATAL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { startPostgres, type PgAuthMethod, type PgServer } from '../fixtures/postgres.ts';
import { CertificateAuthority } from '../../proxy-core/src/tls/certs.ts';
import { CliUser } from './helpers.ts';

let stack: Stack;
let user: CliUser;
let gatewayId: string;
let trustedCa: CertificateAuthority;
let otherCa: CertificateAuthority;
const servers: PgServer[] = [];

interface Case {
  name: string;
  authMethod: PgAuthMethod;
  serverTls: boolean;
  ssl: { enabled: boolean; rejectUnauthorized: boolean; ca?: 'trusted' | 'other' };
  storedPassword?: 'wrong';
  /** Weaker methods the resource allows (issue 10 item 2: SCRAM only unless an instance admin allows more). */
  allow?: { md5?: boolean; cleartext?: boolean };
  expect: { ok: true } | { code: string; message: RegExp };
}

const CASES: Case[] = [
  { name: 'scram, no TLS', authMethod: 'scram-sha-256', serverTls: false, ssl: { enabled: false, rejectUnauthorized: false }, expect: { ok: true } },
  {
    name: 'scram, TLS verified with custom CA (SCRAM-SHA-256-PLUS)',
    authMethod: 'scram-sha-256',
    serverTls: true,
    ssl: { enabled: true, rejectUnauthorized: true, ca: 'trusted' },
    expect: { ok: true },
  },
  {
    name: 'md5 (allowed), TLS verified with custom CA',
    authMethod: 'md5',
    serverTls: true,
    ssl: { enabled: true, rejectUnauthorized: true, ca: 'trusted' },
    allow: { md5: true },
    expect: { ok: true },
  },
  {
    name: 'md5 (allowed), no TLS',
    authMethod: 'md5',
    serverTls: false,
    ssl: { enabled: false, rejectUnauthorized: false },
    allow: { md5: true },
    expect: { ok: true },
  },
  {
    name: 'md5 not allowed: refused, no password sent',
    authMethod: 'md5',
    serverTls: false,
    ssl: { enabled: false, rejectUnauthorized: false },
    expect: { code: '28000', message: /MD5.*does not allow.*sent no password/ },
  },
  {
    name: 'cleartext (allowed), TLS verified with custom CA',
    authMethod: 'password',
    serverTls: true,
    ssl: { enabled: true, rejectUnauthorized: true, ca: 'trusted' },
    allow: { cleartext: true },
    expect: { ok: true },
  },
  {
    name: 'cleartext (allowed), TLS without verification: refused, no password sent',
    authMethod: 'password',
    serverTls: true,
    ssl: { enabled: true, rejectUnauthorized: false },
    allow: { cleartext: true },
    expect: { code: '28000', message: /cleartext.*only over TLS that verifies the server/ },
  },
  {
    name: 'cleartext not allowed, no TLS: refused, no password sent',
    authMethod: 'password',
    serverTls: false,
    ssl: { enabled: false, rejectUnauthorized: false },
    expect: { code: '28000', message: /cleartext.*does not allow/ },
  },
  {
    name: 'TLS required but the server has none: refused, never plaintext',
    authMethod: 'scram-sha-256',
    serverTls: false,
    ssl: { enabled: true, rejectUnauthorized: true },
    expect: { code: '08001', message: /TLS|SSL/i },
  },
  {
    name: 'reject-unauthorized with a CA that did not sign the server: refused',
    authMethod: 'scram-sha-256',
    serverTls: true,
    ssl: { enabled: true, rejectUnauthorized: true, ca: 'other' },
    expect: { code: '08001', message: /certificate/i },
  },
  {
    name: 'wrong stored password: the server’s own FATAL',
    authMethod: 'scram-sha-256',
    serverTls: false,
    ssl: { enabled: false, rejectUnauthorized: false },
    storedPassword: 'wrong',
    expect: { code: '28P01', message: /password authentication failed/ },
  },
];

beforeAll(async () => {
  stack = await startStack({ pgTls: false });
  user = await CliUser.login(stack);
  const { gateways } = await stack.api<{ gateways: Array<{ id: string }> }>('GET', '/gateways');
  gatewayId = gateways[0].id;
  trustedCa = await CertificateAuthority.create({ commonName: 'matrix trusted CA' });
  otherCa = await CertificateAuthority.create({ commonName: 'matrix other CA' });
}, 120_000);

afterAll(async () => {
  await user?.close();
  await stack?.close();
  await Promise.all(servers.map((s) => s.stop()));
});

describe('gateway authentication matrix', () => {
  it.each(CASES)('$name', async (c) => {
    const cert = c.serverTls
      ? await trustedCa.issueServerCertificate({ commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] })
      : undefined;
    const server = await startPostgres({ authMethod: c.authMethod, tls: cert });
    servers.push(server);
    const role = `acct_${Math.random().toString(36).slice(2, 8)}`;
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    await server.createRole(role, password);
    const resourceName = `pg-${servers.length}`;
    const { resource } = await stack.api<{ resource: { id: string } }>('POST', `/projects/${stack.projectId}/resources`, {
      name: resourceName,
      gatewayId,
      host: '127.0.0.1',
      port: server.port,
      database: 'postgres',
      ssl: {
        enabled: c.ssl.enabled,
        rejectUnauthorized: c.ssl.rejectUnauthorized,
        ...(c.ssl.ca ? { ca: (c.ssl.ca === 'trusted' ? trustedCa : otherCa).certPem } : {}),
      },
      allowMd5: c.allow?.md5 === true,
      allowCleartext: c.allow?.cleartext === true,
    });
    await stack.api('POST', `/resources/${resource.id}/accounts`, {
      name: 'app',
      username: role,
      password: c.storedPassword === 'wrong' ? 'not-the-password' : password,
    });

    const access = await user.access(stack, { resource: resourceName, account: 'app' });
    try {
      const client = new pg.Client({ connectionString: access.url });
      if ('ok' in c.expect) {
        await client.connect();
        const { rows } = await client.query('select current_user as u, ssl from pg_stat_ssl where pid = pg_backend_pid()');
        await client.end();
        expect(rows[0].u).toBe(role);
        expect(rows[0].ssl).toBe(c.serverTls && c.ssl.enabled);
      } else {
        const err = (await client.connect().then(
          () => undefined,
          (e: unknown) => e,
        )) as { code?: string; message?: string; severity?: string } | undefined;
        expect(err?.code).toBe(c.expect.code);
        expect(err?.message).toMatch(c.expect.message);
        expect(err?.severity).toBe('FATAL');
        expect(err?.message).not.toContain(password);
      }
    } finally {
      await access.stop();
    }
  });
});
