import { request } from 'undici';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike, type ErrorCode } from '../../proxy-core/src/errors.ts';
import type { GatewayIdentity } from './identity.ts';
import { signedLinkHeaders } from '../../proxy-core/src/tunnel/link-signature.ts';

export const LINK_CHALLENGE_PATH = '/api/v1/gateways/link-challenge';
const CHALLENGE_TIMEOUT_MS = 15_000;

/**
 * Headers for one link attempt: a fresh single-use nonce from the control plane at `domain`,
 * signed with the gateway's key. Each dial (and each replica) needs its own.
 */
export async function linkAuthHeaders(domain: string, identity: GatewayIdentity): Promise<Record<string, string>> {
  const nonce = await fetchLinkNonce(domain, identity.gatewayId);
  return signedLinkHeaders(identity.gatewayId, identity.keyPem, nonce);
}

export async function fetchLinkNonce(domain: string, gatewayId: string): Promise<string> {
  const url = new URL(LINK_CHALLENGE_PATH, domain);
  let statusCode: number;
  let body: unknown;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gatewayId }),
      headersTimeout: CHALLENGE_TIMEOUT_MS,
      bodyTimeout: CHALLENGE_TIMEOUT_MS,
    });
    statusCode = res.statusCode;
    body = await res.body.json().catch(() => undefined);
  } catch (cause) {
    throw new GatehouseError(ErrorCodes.SERVER_UNREACHABLE, `could not reach the control plane at ${domain}: ${(cause as Error).message}`, { cause });
  }
  const error = (body as { error?: unknown } | undefined)?.error;
  if (statusCode >= 400) {
    if (isGatehouseErrorLike(error)) throw new GatehouseError(error.code as ErrorCode, error.message);
    throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, `the control plane refused a link challenge (HTTP ${statusCode})`);
  }
  const nonce = (body as { nonce?: unknown } | undefined)?.nonce;
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, 'the control plane answered the link challenge with an unexpected body');
  }
  return nonce;
}
