import type { Duplex } from 'node:stream';
import { GatehouseError, ErrorCodes } from '../../proxy-core/src/errors.ts';
import { parseStartupPacket, readStartupPacket } from '../../proxy-core/src/protocol/startup.ts';

const CANCEL_READ_TIMEOUT_MS = 5_000;

/** Reads the one CancelRequest a cancel stream carries (inside the E2E TLS). */
export function readCancelRequest(stream: Duplex): Promise<{ processId: number; secretKey: Buffer; packet: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new GatehouseError(ErrorCodes.TIMEOUT, 'no cancel request arrived')), CANCEL_READ_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', fail);
    };
    function fail(err: Error): void {
      cleanup();
      reject(err);
    }
    function onEnd(): void {
      fail(new GatehouseError(ErrorCodes.PROTOCOL, 'the cancel stream ended before a full cancel request'));
    }
    function onData(chunk: Buffer): void {
      buf = Buffer.concat([buf, chunk]);
      try {
        const read = readStartupPacket(buf);
        if (!read) return;
        const parsed = parseStartupPacket(read.packet);
        if (parsed.kind !== 'cancel') throw new GatehouseError(ErrorCodes.PROTOCOL, `expected a CancelRequest, got ${parsed.kind}`);
        cleanup();
        resolve({ processId: parsed.processId, secretKey: parsed.secretKey, packet: Buffer.from(read.packet) });
      } catch (err) {
        fail(err as Error);
      }
    }
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', fail);
  });
}
