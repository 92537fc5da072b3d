/** Opaque random tokens (refresh, enrollment): shown once, stored only as a SHA-256 hash. */
import { createHash, randomBytes } from 'node:crypto';

export function createOpaqueToken(prefix: string): { token: string; hash: string } {
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
