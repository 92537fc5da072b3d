/**
 * Replay-proof gateway link authentication (issue 10 item 1). The gateway asks for a
 * challenge, signs `linkSigningInput(gatewayId, nonce)` with its enrolled key and opens the
 * link with `x-gatehouse-gateway-id`, `x-gatehouse-link-nonce` and `x-gatehouse-signature`.
 * The nonce is stored hashed and deleted by the first link that presents it, so captured
 * headers open nothing, on this replica or any other sharing the store.
 */
import { X509Certificate, createHash, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { LINK_HEADERS, linkSigningInput } from '../../proxy-core/src/tunnel/link-signature.ts';

export const LINK_CHALLENGE_TTL_MS = 60_000;

/** Where outstanding challenges live: the store (shared by replicas) or memory (one process). */
export interface LinkNonceStore {
  save(nonceHash: string, gatewayId: string, expiresAt: Date, now: Date): Promise<void>;
  /** True for the first caller only, and only before `expiresAt`. */
  consume(nonceHash: string, gatewayId: string, now: Date): Promise<boolean>;
}

export interface LinkAuthenticatorOptions {
  nonces: LinkNonceStore;
  /** The enrolled gateway's certificate (PEM), or undefined when unknown or not enrolled. */
  certificateOf(gatewayId: string): Promise<string | undefined>;
  ttlMs?: number;
}

export class LinkAuthenticator {
  readonly #opts: LinkAuthenticatorOptions;

  constructor(options: LinkAuthenticatorOptions) {
    this.#opts = options;
  }

  /** A fresh single-use nonce for an enrolled gateway. */
  async issueChallenge(gatewayId: string, now = new Date()): Promise<{ nonce: string; expiresAt: Date }> {
    if (!(await this.#opts.certificateOf(gatewayId))) throw refused('unknown or not enrolled gateway');
    const nonce = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + (this.#opts.ttlMs ?? LINK_CHALLENGE_TTL_MS));
    await this.#opts.nonces.save(hashNonce(nonce), gatewayId, expiresAt, now);
    return { nonce, expiresAt };
  }

  /** Verifies the signature over the nonce with the enrolled key, then spends the nonce. */
  async authenticate(headers: IncomingHttpHeaders, now = new Date()): Promise<{ gatewayId: string }> {
    const gatewayId = single(headers[LINK_HEADERS.gatewayId]);
    const nonce = single(headers[LINK_HEADERS.nonce]);
    const signature = single(headers[LINK_HEADERS.signature]);
    if (!gatewayId || !nonce || !signature) {
      throw refused(
        `the gateway link needs ${LINK_HEADERS.gatewayId}, ${LINK_HEADERS.nonce} (from POST /api/v1/gateways/link-challenge) and ${LINK_HEADERS.signature}`,
      );
    }
    const certificatePem = await this.#opts.certificateOf(gatewayId);
    if (!certificatePem) throw refused('unknown or not enrolled gateway');
    if (!verifySignature(new X509Certificate(certificatePem).publicKey, linkSigningInput(gatewayId, nonce), signature)) {
      throw refused('the gateway link signature does not verify');
    }
    if (!(await this.#opts.nonces.consume(hashNonce(nonce), gatewayId, now))) {
      throw refused('the link challenge was already used or has expired; fetch a new one');
    }
    return { gatewayId };
  }
}

/** Outstanding challenges in this process only (a single replica, tests). */
export function memoryLinkNonces(): LinkNonceStore {
  const nonces = new Map<string, { gatewayId: string; expiresAt: Date }>();
  return {
    save(nonceHash, gatewayId, expiresAt, now) {
      for (const [hash, entry] of nonces) if (entry.expiresAt <= now) nonces.delete(hash);
      nonces.set(nonceHash, { gatewayId, expiresAt });
      return Promise.resolve();
    },
    consume(nonceHash, gatewayId, now) {
      const entry = nonces.get(nonceHash);
      if (!entry || entry.gatewayId !== gatewayId) return Promise.resolve(false);
      nonces.delete(nonceHash);
      return Promise.resolve(entry.expiresAt > now);
    },
  };
}

function verifySignature(publicKey: KeyObject, payload: Buffer, signature: string): boolean {
  const sig = Buffer.from(signature, 'base64');
  try {
    return verify('sha256', payload, publicKey, sig) || (sig.length === 64 && verify('sha256', payload, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig));
  } catch {
    return false;
  }
}

function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce, 'utf8').digest('hex');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

function refused(message: string): GatehouseError {
  return new GatehouseError(ErrorCodes.UNAUTHENTICATED, message);
}
