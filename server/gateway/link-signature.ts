import { createPrivateKey, sign } from 'node:crypto';

/** The string a gateway signs to open its link (docs/architecture.md, "Links"). */
export function linkSigningInput(gatewayId: string, timestamp: string): Buffer {
  return Buffer.from(`gatehouse-gateway-link\n${gatewayId}\n${timestamp}`, 'utf8');
}

/** `x-gatehouse-*` headers for a link request, signed now with the gateway's key (ECDSA-SHA256, DER, base64). */
export function signedLinkHeaders(gatewayId: string, keyPem: string, now: number = Date.now()): Record<string, string> {
  const timestamp = String(now);
  const signature = sign('sha256', linkSigningInput(gatewayId, timestamp), createPrivateKey(keyPem)).toString('base64');
  return {
    'x-gatehouse-gateway-id': gatewayId,
    'x-gatehouse-timestamp': timestamp,
    'x-gatehouse-signature': signature,
  };
}
