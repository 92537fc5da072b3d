import { createHash } from 'node:crypto';
import { createServer } from 'node:net';

export const PORT_RANGE = { min: 40_000, max: 59_999 } as const;
const MAX_PROBES = 500;

/** The first port tried for a key: a hash of it, spread over 40000–59999. */
export function preferredPort(key: string): number {
  const digest = createHash('sha256').update(key).digest();
  const span = PORT_RANGE.max - PORT_RANGE.min + 1;
  return PORT_RANGE.min + (digest.readUInt32BE(0) % span);
}

/** Whether nothing listens on 127.0.0.1:port right now (we can bind it). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * From the key's preferred port upward (wrapping inside the range), the first port that is
 * neither reserved (remembered for another account) nor in use.
 */
export async function allocatePort(key: string, reserved: ReadonlySet<number>): Promise<number> {
  const span = PORT_RANGE.max - PORT_RANGE.min + 1;
  const start = preferredPort(key) - PORT_RANGE.min;
  for (let i = 0; i < Math.min(span, MAX_PROBES); i++) {
    const port = PORT_RANGE.min + ((start + i) % span);
    if (reserved.has(port)) continue;
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free local port found in ${PORT_RANGE.min}-${PORT_RANGE.max}`);
}
