import { randomInt } from 'node:crypto';

/** Letters and digits only: safe in any client, connection string, shell or config file. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 40 characters of 62 symbols: about 238 bits. */
export const NEW_PASSWORD_LENGTH = 40;

/** A new database password (crypto-random, unbiased: `randomInt` rejects out-of-range draws). */
export function newDatabasePassword(): string {
  let out = '';
  for (let i = 0; i < NEW_PASSWORD_LENGTH; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
