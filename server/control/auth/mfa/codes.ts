/** One-time codes: 6-digit email codes and recovery codes, stored only as keyed hashes. */
import { createHmac, randomBytes, randomInt } from 'node:crypto';

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export function newEmailCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** `xxxxx-xxxxx`: 10 characters from a 31-letter alphabet (about 50 bits). */
export function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

export function normalizeRecoveryCode(code: string): string {
  return code.trim().toLowerCase().replace(/\s+/g, '');
}

/** HMAC under a server key: a stolen table does not let 6-digit codes be brute-forced offline. */
export function hashCode(key: Buffer, kind: 'email' | 'recovery', userId: string, code: string): string {
  return createHmac('sha256', key).update(`${kind}:${userId}:${code}`).digest('hex');
}
