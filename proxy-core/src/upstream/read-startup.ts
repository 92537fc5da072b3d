import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { parseStartupPacket, readStartupPacket } from '../protocol/startup.ts';
import { MAX_STARTUP_PACKET_LENGTH } from '../protocol/constants.ts';
import type { ClientStartup } from './types.ts';

/**
 * Reads the client's StartupMessage (the local proxy sends exactly one, after TLS) and
 * leaves the stream paused. `rest` is anything the client sent after it.
 */
export function readClientStartup(client: Duplex, timeoutMs: number): Promise<{ startup: ClientStartup; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new GatehouseError(ErrorCodes.TIMEOUT, `no StartupMessage within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, value?: { startup: ClientStartup; rest: Buffer }) => {
      clearTimeout(timer);
      client.off('data', onData);
      client.off('end', onEnd);
      client.off('close', onEnd);
      client.off('error', onError);
      client.pause();
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      try {
        const r = readStartupPacket(buffered);
        if (!r) {
          if (buffered.length > MAX_STARTUP_PACKET_LENGTH) throw new GatehouseError(ErrorCodes.PROTOCOL, 'startup packet too long');
          return;
        }
        const packet = parseStartupPacket(r.packet);
        if (packet.kind !== 'startup') {
          throw new GatehouseError(ErrorCodes.PROTOCOL, `expected a StartupMessage on this stream, got a ${packet.kind} request`);
        }
        const { protocolVersion, parameters, protocolOptions } = packet;
        finish(undefined, { startup: { protocolVersion, parameters, protocolOptions }, rest: Buffer.from(r.rest) });
      } catch (err) {
        finish(err as Error);
      }
    };
    const onEnd = () => finish(new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'the client closed the stream before its StartupMessage'));
    const onError = (err: Error) => finish(err);
    client.on('data', onData);
    client.on('end', onEnd);
    client.on('close', onEnd);
    client.on('error', onError);
    client.resume();
  });
}
