/**
 * Subkeys derived from the root key with HKDF-SHA256, one per purpose, so that the key
 * sealing secrets never signs a token and vice versa.
 */
import { hkdfSync } from 'node:crypto';

export interface DerivedKeys {
  /** AES-256-GCM key for secrets at rest. */
  encryption: Buffer;
  /** HMAC-SHA256 key for access tokens. */
  tokenSigning: Buffer;
  /** Seed of the Ed25519 key that signs audit checkpoints (audit/checkpoint.ts). */
  auditSigningSeed: Buffer;
  /** HMAC-SHA256 key binding the console's CSRF token to its refresh cookie. */
  csrf: Buffer;
}

const SALT = Buffer.from('gatehouse-control-plane');

export function deriveKeys(rootKey: Buffer): DerivedKeys {
  return {
    encryption: derive(rootKey, 'gatehouse/secrets/aes-256-gcm/v1'),
    tokenSigning: derive(rootKey, 'gatehouse/tokens/hmac-sha256/v1'),
    auditSigningSeed: derive(rootKey, 'gatehouse/audit-checkpoint/ed25519/v1'),
    csrf: derive(rootKey, 'gatehouse/console/csrf/v1'),
  };
}

function derive(rootKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', rootKey, SALT, info, 32));
}
