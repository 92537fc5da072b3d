import { webcrypto } from 'node:crypto';
import { GatehouseError, ErrorCodes } from '../errors.ts';
import { CLOCK_SKEW_MS, EC_ALGORITHM, SIGNING_ALGORITHM, x509 } from './x509.ts';
import { altNamesToGeneralNames, caExtensions, leafExtensions, type CertificateUsage } from './extensions.ts';
import { generateKeyPair, importSigningKey, publicKeyDer } from './keys.ts';
import type { CertificateAndKey } from './self-signed.ts';

export interface IssueOptions {
  /** SPKI PEM of the subject's ECDSA P-256 key. */
  publicKeyPem: string;
  commonName: string;
  /** The identity URI SAN, e.g. `gatehouse://session/<id>` (see `identityUri`). */
  uri?: string;
  notAfter: Date;
  /** Defaults to now minus a small clock skew allowance. */
  notBefore?: Date;
  usage: CertificateUsage;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
}

const CA_VALIDITY_MS = 10 * 365 * 86_400_000;

/**
 * The internal CA (ECDSA P-256). It signs gateway and session certificates; the PEM key is
 * the caller's to keep (the control plane encrypts it at rest).
 */
export class CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
  readonly #cert: x509.X509Certificate;
  #signingKey: Promise<CryptoKey> | undefined;

  private constructor(certPem: string, keyPem: string) {
    try {
      this.#cert = new x509.X509Certificate(certPem);
    } catch (cause) {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'CA certificate is not a valid PEM certificate', { cause });
    }
    this.certPem = this.#cert.toString('pem');
    this.keyPem = keyPem;
  }

  /** A new CA with a fresh key, valid for ten years. */
  static async create(options: { commonName: string }): Promise<CertificateAuthority> {
    const { publicKeyPem, privateKeyPem } = generateKeyPair();
    const spki = publicKeyDer(publicKeyPem);
    const publicKey = await webcrypto.subtle.importKey('spki', spki, EC_ALGORITHM, true, ['verify']);
    const privateKey = await importSigningKey(privateKeyPem);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: [{ CN: [options.commonName] }],
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + CA_VALIDITY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys: { publicKey, privateKey },
      extensions: await caExtensions(spki),
    });
    return new CertificateAuthority(cert.toString('pem'), privateKeyPem);
  }

  /** A CA from stored PEMs. Throws INVALID_INPUT when the key does not belong to the cert. */
  static load(options: { certPem: string; keyPem: string }): CertificateAuthority {
    const ca = new CertificateAuthority(options.certPem, options.keyPem);
    const certKey = Buffer.from(ca.#cert.publicKey.rawData);
    const ownKey = publicKeyDerFromPrivate(options.keyPem);
    if (!certKey.equals(ownKey)) {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'CA key does not match the CA certificate');
    }
    return ca;
  }

  /** Signs an end-entity certificate for `publicKeyPem`; returns it as PEM. */
  async issue(options: IssueOptions): Promise<string> {
    const spki = publicKeyDer(options.publicKeyPem);
    const notBefore = options.notBefore ?? new Date(Math.min(Date.now() - CLOCK_SKEW_MS, options.notAfter.getTime() - 1000));
    if (!(options.notAfter.getTime() > notBefore.getTime())) {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'certificate notAfter must be after notBefore');
    }
    const generalNames: x509.JsonGeneralName[] = [];
    if (options.uri !== undefined) generalNames.push({ type: 'url', value: options.uri });
    generalNames.push(...altNamesToGeneralNames([...(options.dnsNames ?? []), ...(options.ipAddresses ?? [])]));
    const cert = await x509.X509CertificateGenerator.create({
      subject: [{ CN: [options.commonName] }],
      issuer: this.#cert.subjectName,
      publicKey: spki,
      signingKey: await this.#key(),
      signingAlgorithm: SIGNING_ALGORITHM,
      notBefore,
      notAfter: options.notAfter,
      extensions: await leafExtensions({
        usage: options.usage,
        generalNames,
        publicKey: spki,
        authorityPublicKey: this.#cert.publicKey.rawData,
      }),
    });
    return cert.toString('pem');
  }

  /**
   * Generates a key and issues a certificate for it (tests, the demo, a PostgreSQL server
   * cert). Defaults: usage 'server', valid for a year.
   */
  async issueServerCertificate(options: {
    commonName: string;
    dnsNames?: readonly string[];
    ipAddresses?: readonly string[];
    uri?: string;
    notAfter?: Date;
    notBefore?: Date;
    usage?: CertificateUsage;
  }): Promise<CertificateAndKey> {
    const { publicKeyPem, privateKeyPem } = generateKeyPair();
    const certPem = await this.issue({
      publicKeyPem,
      commonName: options.commonName,
      uri: options.uri,
      dnsNames: options.dnsNames,
      ipAddresses: options.ipAddresses,
      notBefore: options.notBefore,
      notAfter: options.notAfter ?? new Date(Date.now() + 365 * 86_400_000),
      usage: options.usage ?? 'server',
    });
    return { certPem, keyPem: privateKeyPem };
  }

  #key(): Promise<CryptoKey> {
    this.#signingKey ??= importSigningKey(this.keyPem);
    return this.#signingKey;
  }
}

function publicKeyDerFromPrivate(keyPem: string): Buffer {
  try {
    return Buffer.from(publicKeyDer(keyPem));
  } catch (cause) {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'CA key is not a valid ECDSA P-256 private key', { cause });
  }
}
