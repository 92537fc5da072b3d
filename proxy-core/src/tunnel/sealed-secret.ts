/**
 * Secrets sealed to one recipient's public key (issue 10 item 1): the control plane seals a
 * target password to the enrolled gateway's key, so that only the holder of that key can
 * read it, even on a link someone else managed to open.
 *
 * HPKE-like, with the key type enrollment uses (ECDSA P-256 keys, used here for ECDH):
 * an ephemeral key pair on the recipient's curve, ECDH, HKDF-SHA256 (salt: both public keys,
 * info: the context) and AES-256-GCM with the context as additional data. The context binds
 * the secret to where it may be used (`target-password:<gatewayId>:<sessionId>`).
 *
 * Wire form: `ghseal1.<ephemeral SPKI DER>.<iv>.<ciphertext‖tag>`, each base64url.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../errors.ts';

const PREFIX = 'ghseal1';
const INFO = 'gatehouse sealed secret v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals `plaintext` to `recipient` (a public key, or a certificate's public key as PEM). */
export function sealToPublicKey(plaintext: string, recipient: KeyObject | string, context: string): string {
  const recipientKey = typeof recipient === 'string' ? createPublicKey(recipient) : recipient;
  const curve = ecCurve(recipientKey);
  const ephemeral = generateKeyPairSync('ec', { namedCurve: curve });
  const ephemeralDer = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
  const key = deriveKey(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipientKey }), ephemeralDer, recipientKey, context);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return [PREFIX, ephemeralDer.toString('base64url'), iv.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/** Opens a sealed secret with the recipient's private key; throws DECRYPT_FAILED for any other key or context. */
export function openSealed(sealed: string, recipientPrivateKey: KeyObject | string, context: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX) throw failed('the sealed secret is malformed');
  try {
    const privateKey = typeof recipientPrivateKey === 'string' ? createPrivateKey(recipientPrivateKey) : recipientPrivateKey;
    const ephemeralDer = Buffer.from(parts[1], 'base64url');
    const iv = Buffer.from(parts[2], 'base64url');
    const body = Buffer.from(parts[3], 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new Error('bad lengths');
    const ephemeral = createPublicKey({ key: ephemeralDer, format: 'der', type: 'spki' });
    const key = deriveKey(diffieHellman({ privateKey, publicKey: ephemeral }), ephemeralDer, createPublicKey(privateKey), context);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw failed('the sealed secret does not open with this key (sealed to another key, or tampered with)', cause);
  }
}

/** The context a target password is sealed under. */
export function targetPasswordContext(gatewayId: string, sessionId: string): string {
  return `target-password:${gatewayId}:${sessionId}`;
}

function deriveKey(shared: Buffer, ephemeralDer: Buffer, recipient: KeyObject, context: string): Buffer {
  const salt = Buffer.concat([ephemeralDer, recipient.export({ type: 'spki', format: 'der' })]);
  return Buffer.from(hkdfSync('sha256', shared, salt, Buffer.from(`${INFO}\n${context}`, 'utf8'), 32));
}

function ecCurve(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || !curve) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'secrets can only be sealed to an EC public key');
  return curve;
}

function failed(message: string, cause?: unknown): GatehouseError {
  return new GatehouseError(ErrorCodes.DECRYPT_FAILED, message, { cause });
}
