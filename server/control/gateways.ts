/**
 * Gateway identity: creation with a one-time enrollment token, enrollment (a certificate
 * for the gateway's key) and verification of the signed headers on the link.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CertificateAuthority } from '../../proxy-core/src/tls/certs.ts';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { publicKeyDer } from '../../proxy-core/src/tls/keys.ts';
import { createOpaqueToken, hashOpaqueToken } from './auth/opaque-tokens.ts';
import { LinkAuthenticator } from './gateway-link-auth.ts';
import type { Gateway } from './store/gateways.ts';
import type { Store } from './store/store.ts';

const GATEWAY_CERT_VALIDITY_MS = 365 * 86_400_000;

export class GatewayService {
  readonly #store: Store;
  readonly #ca: CertificateAuthority;
  readonly #tokenTtlSeconds: number;
  readonly #links: LinkAuthenticator;

  constructor(options: { store: Store; ca: CertificateAuthority; enrollmentTokenTtlSeconds: number }) {
    this.#store = options.store;
    this.#ca = options.ca;
    this.#tokenTtlSeconds = options.enrollmentTokenTtlSeconds;
    this.#links = new LinkAuthenticator({
      nonces: options.store.gatewayLinkChallenges,
      certificateOf: async (gatewayId) => (await options.store.gateways.findById(gatewayId))?.certificatePem ?? undefined,
    });
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
      throw new GatehouseError(
        ErrorCodes.ENROLLMENT_TOKEN_INVALID,
        'the enrollment token is not valid (unknown, already used or expired); ask an admin for a new gateway token',
      );
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

  /** A single-use nonce the gateway signs to open its link (gateway-link-auth.ts). */
  issueLinkChallenge(gatewayId: string): Promise<{ nonce: string; expiresAt: Date }> {
    return this.#links.issueChallenge(gatewayId);
  }

  /** Checks the link headers: a signature by the enrolled key over a nonce this store issued and nobody used yet. */
  authenticateLink(headers: IncomingHttpHeaders): Promise<{ gatewayId: string }> {
    return this.#links.authenticate(headers);
  }
}
