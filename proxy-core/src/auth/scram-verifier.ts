/**
 * A PostgreSQL SCRAM-SHA-256 password verifier, computed here so that a password can be set
 * with `ALTER ROLE … PASSWORD '<verifier>'` without the plaintext ever appearing in SQL text
 * (the server stores a pre-hashed password as given, whatever `password_encryption` says).
 * Format as PostgreSQL's `scram_build_secret`:
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64).
 * @see https://www.postgresql.org/docs/current/catalog-pg-authid.html
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { preparePassword } from './saslprep.ts';

export const SCRAM_DEFAULT_ITERATIONS = 4096;
const SALT_BYTES = 16;

export function scramSha256Verifier(password: string, options: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const salted = pbkdf2Sync(preparePassword(password), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
