/**
 * Test helper: a CA and a server certificate for 127.0.0.1/localhost, made with the
 * `openssl` command line (tests only; never imported by library code).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export type TestKeyKind = 'rsa-sha256' | 'ec-sha384';

export function createTestCertificates(kind: TestKeyKind = 'rsa-sha256'): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-certs-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const keyArgs = kind === 'rsa-sha256' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];
  const digest = kind === 'rsa-sha256' ? '-sha256' : '-sha384';
  try {
    run(['req', '-x509', ...keyArgs, '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', digest, '-subj', '/CN=Gatehouse Test CA']);
    run(['req', ...keyArgs, '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      digest,
      '-extfile',
      'ext.cnf',
    ]);
    return {
      caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      certPem: readFileSync(join(dir, 'server.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
