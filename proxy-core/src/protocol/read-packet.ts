import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { readStartupPacket } from '../protocol/startup.ts';

/** First byte of a TLS record (handshake): a "direct SSL" client (PG 17+). */
const TLS_HANDSHAKE_BYTE = 0x16;

export type ReadResult =
  | { kind: 'packet'; packet: Buffer; rest: Buffer }
  | { kind: 'tls-client-hello'; buffered: Buffer };

/**
 * Reads one untyped pre-startup packet from `socket`, starting with `buffered` bytes.
 * Leaves the socket paused with no listeners of ours, so the caller can hand it on (e.g. to
 * TLS, after `unshift`ing `rest`). Rejects with `GatehouseError(PROTOCOL)` on an invalid
 * length, `TIMEOUT` after `timeoutMs`, `TUNNEL_CLOSED` when the client goes away.
 */
export function readPacket(
  socket: Duplex,
  buffered: Buffer,
  opts: { detectTls: boolean; timeoutMs: number },
): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    let buf = buffered;
    const timer = setTimeout(
      () => finish(new GatehouseError(ErrorCodes.TIMEOUT, 'client sent no startup packet in time')),
      opts.timeoutMs,
    );
    const finish = (err: Error | undefined, result?: ReadResult): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      socket.pause();
      if (err) reject(err);
      else resolve(result as ReadResult);
    };
    const attempt = (): boolean => {
      if (opts.detectTls && buf.length > 0 && buf[0] === TLS_HANDSHAKE_BYTE) {
        finish(undefined, { kind: 'tls-client-hello', buffered: buf });
        return true;
      }
      try {
        const got = readStartupPacket(buf);
        if (!got) return false;
        finish(undefined, { kind: 'packet', packet: got.packet, rest: got.rest });
      } catch (err) {
        finish(err as Error);
      }
      return true;
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      attempt();
    };
    const onEnd = (): void => finish(new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'client closed the connection before startup'));
    const onError = (err: Error): void => finish(err);
    if (attempt()) return;
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}
