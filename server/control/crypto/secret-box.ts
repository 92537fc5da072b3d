/**
 * AES-256-GCM sealing of secrets at rest. Sealed format: `v1.<base64 iv>.<base64 ciphertext>.<base64 tag>`
 * with a random 12-byte IV. The AAD binds a ciphertext to where it is stored
 * (e.g. `account:<id>:password`), so a ciphertext copied to another row does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new GatehouseError(ErrorCodes.CONFIG, 'the encryption key must be 32 bytes');
    this.#key = key;
  }

  seal(plaintext: string | Buffer, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, iv.toString('base64'), ciphertext.toString('base64'), cipher.getAuthTag().toString('base64')].join('.');
  }

  open(sealed: string, aad: string): Buffer {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) {
      throw new GatehouseError(ErrorCodes.DECRYPT_FAILED, 'sealed secret has an unknown format');
    }
    const iv = Buffer.from(parts[1], 'base64');
    const tag = Buffer.from(parts[3], 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new GatehouseError(ErrorCodes.DECRYPT_FAILED, 'sealed secret is malformed');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(parts[2], 'base64')), decipher.final()]);
    } catch (cause) {
      throw new GatehouseError(ErrorCodes.DECRYPT_FAILED, 'sealed secret failed authentication (wrong key, row or tampered data)', { cause });
    }
  }

  openString(sealed: string, aad: string): string {
    return this.open(sealed, aad).toString('utf8');
  }
}
