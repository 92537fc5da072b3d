import type { ClientOptions } from 'ws';

const noMask = (mask: Buffer): void => {
  mask.fill(0);
};

/**
 * WebSocket client options for a tunnel link (the CLI's session tunnel, the gateway's link).
 *
 * - No permessage-deflate: payloads are TLS ciphertext and do not compress.
 * - Masking only where it protects something. RFC 6455 masks client frames so that bytes a
 *   client chooses cannot poison a plaintext intermediary's cache. Over TLS (`wss:`) or on a
 *   loopback address no intermediary can read the bytes, so the frames go unmasked (an
 *   all-zero mask, which `ws` skips on both ends) and the per-byte XOR is saved twice.
 */
export function tunnelClientOptions(url: string): ClientOptions {
  return { perMessageDeflate: false, ...(maskingUseless(url) && { generateMask: noMask }) };
}

function maskingUseless(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'wss:') return true;
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
