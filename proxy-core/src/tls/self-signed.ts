import { webcrypto } from 'node:crypto';
import { CLOCK_SKEW_MS, EC_ALGORITHM, SIGNING_ALGORITHM, x509 } from './x509.ts';
import { altNamesToGeneralNames, leafExtensions } from './extensions.ts';
import { generateKeyPair } from './keys.ts';
import { importSigningKey, publicKeyDer } from './keys.ts';

export interface SelfSignedOptions {
  commonName: string;
  /** DNS names or IP literals, e.g. `['localhost', '127.0.0.1']`. */
  altNames: readonly string[];
  /** Validity in days (default 365). */
  days?: number;
}

export interface CertificateAndKey {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

const DAY_MS = 86_400_000;

/**
 * A self-signed ECDSA P-256 server certificate (the local proxy's `sslmode=require` TLS,
 * tests). Clients that pin it use `ca: certPem`.
 */
export async function createSelfSignedCertificate(options: SelfSignedOptions): Promise<CertificateAndKey> {
  const { publicKeyPem, privateKeyPem } = generateKeyPair();
  const spki = publicKeyDer(publicKeyPem);
  const signingKey = await importSigningKey(privateKeyPem);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, EC_ALGORITHM, true, ['verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [options.commonName] }],
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + (options.days ?? 365) * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys: { publicKey, privateKey: signingKey },
    extensions: await leafExtensions({
      usage: 'server',
      generalNames: altNamesToGeneralNames(options.altNames),
      publicKey: spki,
    }),
  });
  return { certPem: cert.toString('pem'), keyPem: privateKeyPem };
}
