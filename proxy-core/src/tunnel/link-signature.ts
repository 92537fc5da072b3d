import { createPrivateKey, sign } from 'node:crypto';

/**
 * The link handshake (docs/architecture.md, "Links"; issue 10 item 1): the gateway fetches a
 * single-use nonce from the control plane (`POST /api/v1/gateways/link-challenge`), signs
 * this string with its enrolled key, and opens the link with the signature. The control plane
 * deletes the nonce as it accepts the link, so a captured set of headers opens nothing.
 */
export const LINK_SIGNATURE_CONTEXT = 'gatehouse-gateway-link-v2';

export const LINK_HEADERS = {
  gatewayId: 'x-gatehouse-gateway-id',
  nonce: 'x-gatehouse-link-nonce',
  signature: 'x-gatehouse-signature',
} as const;

/** The bytes a gateway signs to open its link with the nonce it was given. */
export function linkSigningInput(gatewayId: string, nonce: string): Buffer {
  return Buffer.from(`${LINK_SIGNATURE_CONTEXT}\n${gatewayId}\n${nonce}`, 'utf8');
}

/** `x-gatehouse-*` headers for a link request answering `nonce`, signed with the gateway's key (ECDSA-SHA256, DER, base64). */
export function signedLinkHeaders(gatewayId: string, keyPem: string, nonce: string): Record<string, string> {
  const signature = sign('sha256', linkSigningInput(gatewayId, nonce), createPrivateKey(keyPem)).toString('base64');
  return { [LINK_HEADERS.gatewayId]: gatewayId, [LINK_HEADERS.nonce]: nonce, [LINK_HEADERS.signature]: signature };
}
