/**
 * The source address of a request: the socket's peer, or, behind `trustProxyHops` trusted
 * proxies, the address the outermost trusted proxy saw (counted from the right of
 * X-Forwarded-For, since only the entries our own proxies appended can be trusted).
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export function sourceAddressOf(req: IncomingMessage, trustProxyHops: number): string | null {
  const peer = req.socket.remoteAddress ?? null;
  if (trustProxyHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (!raw) return peer;
  const hops = raw
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  const candidate = hops[Math.max(0, hops.length - trustProxyHops)];
  return candidate !== undefined && isIP(candidate) !== 0 ? candidate : peer;
}
