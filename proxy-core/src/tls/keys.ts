import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { GatehouseError, ErrorCodes } from '../errors.ts';
import { EC_ALGORITHM } from './x509.ts';

export interface KeyPairPem {
  /** SPKI, `-----BEGIN PUBLIC KEY-----`. */
  publicKeyPem: string;
  /** PKCS#8, `-----BEGIN PRIVATE KEY-----`. */
  privateKeyPem: string;
}

/** A fresh ECDSA P-256 key pair as PEM (SPKI public, PKCS#8 private). Synchronous. */
export function generateKeyPair(): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** SPKI DER of an ECDSA P-256 public key given as PEM; rejects any other key type. */
export function publicKeyDer(publicKeyPem: string): Uint8Array<ArrayBuffer> {
  let key;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (cause) {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'public key is not a valid PEM key', { cause });
  }
  assertP256(key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve);
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** A WebCrypto signing key from a PEM private key (PKCS#8 or SEC1). */
export async function importSigningKey(privateKeyPem: string): Promise<CryptoKey> {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'private key is not a valid PEM key', { cause });
  }
  assertP256(key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return await webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
}

function assertP256(type: string | undefined, curve: string | undefined): void {
  if (type !== 'ec' || (curve !== 'prime256v1' && curve !== 'P-256')) {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'key must be ECDSA P-256');
  }
}
