import { ErrorCodes, GatehouseError } from '../errors.ts';
import { dialDatabase } from './dial.ts';
import type { UpstreamSsl } from './types.ts';

const CANCEL_TIMEOUT_MS = 5_000;

/**
 * Sends a CancelRequest to the server that runs the session: dial the same resolved
 * address (not a new DNS answer), over TLS after SSLRequest when the resource requires TLS.
 * Resolves once the request is written and the server closed the connection (or after a
 * short grace); the server never answers a cancel.
 */
export async function sendCancel(
  address: { host: string; port: number; verifyHost?: string },
  ssl: UpstreamSsl,
  request: Buffer,
  timeoutMs = CANCEL_TIMEOUT_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const sockets: import('node:net').Socket[] = [];
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
      reject(new GatehouseError(ErrorCodes.TIMEOUT, `cancel request to ${address.host}:${address.port} timed out`));
    }, timeoutMs);
  });
  const send = async () => {
    const { socket } = await dialDatabase(address.host, address.port, ssl, { verifyHost: address.verifyHost, track: (s) => sockets.push(s) });
    await new Promise<void>((resolve) => {
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
      socket.end(request);
    });
  };
  try {
    await Promise.race([send(), deadline]);
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
  }
}
