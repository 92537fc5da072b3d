import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { parseStartupPacket, readStartupPacket, type StartupPacket } from './startup.ts';

/** First byte of a TLS record (handshake): a "direct SSL" client (PG 17+). */
const TLS_HANDSHAKE_BYTE = 0x16;

export type ReadResult = { kind: 'packet'; packet: Buffer; rest: Buffer } | { kind: 'tls-client-hello'; buffered: Buffer };

/**
 * Reading untyped pre-startup packets (StartupMessage, SSLRequest, GSSENCRequest,
 * CancelRequest) from a stream: the local proxy, the gateway's pg streams and its cancel
 * streams all read their first packet through here.
 */

/**
 * Reads one untyped pre-startup packet from `socket`, starting with `buffered` bytes.
 * Leaves the socket paused with no listeners of ours, so the caller can hand it on (e.g. to
 * TLS, after `unshift`ing `rest`). Rejects with `GatehouseError(PROTOCOL)` on an invalid
 * length, `TIMEOUT` after `timeoutMs`, `TUNNEL_CLOSED` when the client goes away.
 */
export function readPacket(socket: Duplex, buffered: Buffer, opts: { detectTls: boolean; timeoutMs: number; what?: string }): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    let buf = buffered;
    const timer = setTimeout(
      () => finish(new GatehouseError(ErrorCodes.TIMEOUT, `no ${opts.what ?? 'startup packet'} arrived within ${opts.timeoutMs} ms`)),
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
    const onEnd = (): void =>
      finish(new GatehouseError(ErrorCodes.TUNNEL_CLOSED, `the peer closed the connection before its ${opts.what ?? 'startup packet'}`));
    const onError = (err: Error): void => finish(err);
    if (attempt()) return;
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}

/**
 * Reads one packet of the expected kind (the gateway's streams carry exactly one: a
 * StartupMessage on a pg stream, a CancelRequest on a cancel stream).
 */
export async function readPacketOfKind<K extends StartupPacket['kind']>(
  stream: Duplex,
  kind: K,
  timeoutMs: number,
): Promise<{ packet: Extract<StartupPacket, { kind: K }>; raw: Buffer; rest: Buffer }> {
  const what = kind === 'startup' ? 'StartupMessage' : kind === 'cancel' ? 'CancelRequest' : `${kind} request`;
  const read = await readPacket(stream, Buffer.alloc(0), { detectTls: false, timeoutMs, what });
  if (read.kind !== 'packet') throw new GatehouseError(ErrorCodes.PROTOCOL, `expected a ${what}`);
  const packet = parseStartupPacket(read.packet);
  if (packet.kind !== kind) throw new GatehouseError(ErrorCodes.PROTOCOL, `expected a ${what} on this stream, got a ${packet.kind} request`);
  return { packet: packet as Extract<StartupPacket, { kind: K }>, raw: Buffer.from(read.packet), rest: Buffer.from(read.rest) };
}
