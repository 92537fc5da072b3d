/**
 * Gateway identity: creation with a one-time enrollment token, enrollment (a certificate
 * for the gateway's key) and verification of the signed headers on the link.
 */
import { X509Certificate, createPublicKey, verify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { CertificateAuthority } from '../../proxy-core/src/tls/certs.ts';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { publicKeyDer } from '../../proxy-core/src/tls/keys.ts';
import { createOpaqueToken, hashOpaqueToken } from './auth/opaque-tokens.ts';
import type { Gateway } from './store/gateways.ts';
import type { Store } from './store/store.ts';

export const LINK_SIGNATURE_CONTEXT = 'gatehouse-gateway-link';
export const LINK_MAX_SKEW_MS = 60_000;
const GATEWAY_CERT_VALIDITY_MS = 365 * 86_400_000;

/** The bytes a gateway signs to open its link. */
export function linkSigningPayload(gatewayId: string, timestampMs: number | string): Buffer {
  return Buffer.from(`${LINK_SIGNATURE_CONTEXT}\n${gatewayId}\n${timestampMs}`, 'utf8');
}

export class GatewayService {
  readonly #store: Store;
  readonly #ca: CertificateAuthority;
  readonly #tokenTtlSeconds: number;

  constructor(options: { store: Store; ca: CertificateAuthority; enrollmentTokenTtlSeconds: number }) {
    this.#store = options.store;
    this.#ca = options.ca;
    this.#tokenTtlSeconds = options.enrollmentTokenTtlSeconds;
  }

  async create(name: string, projectId: string | null): Promise<{ gateway: Gateway; enrollmentToken: string; expiresAt: Date }> {
    const { token, hash } = createOpaqueToken('ghe');
    const expiresAt = new Date(Date.now() + this.#tokenTtlSeconds * 1000);
    const gateway = await this.#store.gateways.create({ name, projectId, tokenHash: hash, tokenExpiresAt: expiresAt });
    return { gateway, enrollmentToken: token, expiresAt };
  }

  /** Certifies the gateway's public key, spending the one-time token only once the key is known to be usable. */
  async enroll(token: string, publicKeyPem: string) {
    publicKeyDer(publicKeyPem); // a key the CA refuses must leave the token usable: INVALID_INPUT before it is spent
    const now = new Date();
    const gatewayId = await this.#store.gateways.consumeEnrollmentToken(hashOpaqueToken(token), now);
    const gateway = gatewayId && (await this.#store.gateways.findById(gatewayId));
    if (!gateway) {
      throw new GatehouseError(ErrorCodes.ENROLLMENT_TOKEN_INVALID, 'the enrollment token is not valid (unknown, already used or expired); ask an admin for a new gateway token');
    }
    const certificatePem = await this.#ca.issue({
      publicKeyPem,
      uri: `gatehouse://gateway/${gateway.id}`,
      commonName: gateway.name,
      notAfter: new Date(now.getTime() + GATEWAY_CERT_VALIDITY_MS),
      usage: 'server',
    });
    await this.#store.gateways.setCertificate(gateway.id, certificatePem, now);
    return { gatewayId: gateway.id, name: gateway.name, certificatePem, caCertificatePem: this.#ca.certPem };
  }

  /**
   * Checks `x-gatehouse-gateway-id`, `x-gatehouse-timestamp` (ms, within ±60 s) and
   * `x-gatehouse-signature` (base64 ECDSA-SHA256, DER or raw r||s) against the enrolled certificate.
   */
  async authenticateLink(headers: IncomingHttpHeaders, now = Date.now()): Promise<{ gatewayId: string }> {
    const gatewayId = single(headers['x-gatehouse-gateway-id']);
    const timestamp = single(headers['x-gatehouse-timestamp']);
    const signature = single(headers['x-gatehouse-signature']);
    if (!gatewayId || !timestamp || !signature) throw refused('the gateway link needs x-gatehouse-gateway-id, x-gatehouse-timestamp and x-gatehouse-signature');
    if (!/^\d{1,16}$/.test(timestamp) || Math.abs(now - Number(timestamp)) > LINK_MAX_SKEW_MS) {
      throw refused('the gateway link timestamp is more than 60 s away from the server clock');
    }
    const gateway = await this.#store.gateways.findById(gatewayId);
    if (!gateway?.certificatePem) throw refused('unknown or not enrolled gateway');
    const publicKey = createPublicKey(new X509Certificate(gateway.certificatePem).publicKey.export({ type: 'spki', format: 'pem' }));
    const payload = linkSigningPayload(gatewayId, timestamp);
    const sig = Buffer.from(signature, 'base64');
    const valid =
      verify('sha256', payload, publicKey, sig) || (sig.length === 64 && verify('sha256', payload, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig));
    if (!valid) throw refused('the gateway link signature does not verify');
    return { gatewayId };
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

function refused(message: string): GatehouseError {
  return new GatehouseError(ErrorCodes.UNAUTHENTICATED, message);
}
