/**
 * A stream the control plane itself opens toward a gateway over that gateway's link (no
 * client tunnel): the end of the "service connection" seam (server/control/service-connection).
 *
 * On the link it is an ordinary stream: an OPEN frame with the meta, then DATA / WINDOW / FIN /
 * RST with per-stream credits, exactly as a relayed client stream. On this side it is a
 * MuxStream, so the caller gets a Duplex with the same flow control a local proxy has.
 * Service connections carry a few small queries, so the link's congestion is not consulted
 * (the WebSocket buffers them); bulk data must not use this path.
 */
import { GatehouseError } from '../../../proxy-core/src/errors.ts';
import { FrameType, INITIAL_WINDOW, parseReset, windowIncrement } from '../../../proxy-core/src/tunnel/frames.ts';
import { MuxStream, type StreamLink } from '../../../proxy-core/src/tunnel/stream.ts';
import type { ErrorCode } from '../../../proxy-core/src/errors.ts';
import type { GatewayLinkConnection, LinkStream } from './gateway-link.ts';
import type { GatewayStreamMeta } from './types.ts';

/** Opens `meta` as a new stream on `link` and returns this side's Duplex. */
export function openLocalStream(link: GatewayLinkConnection, meta: GatewayStreamMeta): MuxStream {
  const id = link.openStream(meta);
  const adapter: StreamLink = {
    sendFrame: (frame) => {
      if (!link.open) return false;
      link.sendFrame(frame);
      return true;
    },
    congested: () => false,
    waitForDrain: (s) => s.resumeWriting(),
    forget: () => link.streams.delete(id),
  };
  const stream = new MuxStream(adapter, id, { kind: meta.kind }, { initialWindow: INITIAL_WINDOW });
  link.streams.set(id, new LocalStreamEnd(stream));
  return stream;
}

/** Frames from the gateway for a local stream, delivered to its MuxStream. */
class LocalStreamEnd implements LinkStream {
  constructor(private readonly stream: MuxStream) {}

  fromGateway(type: number, _frame: Buffer, payload: Buffer): void {
    const s = this.stream;
    switch (type) {
      case FrameType.DATA:
        return s.onData(payload);
      case FrameType.WINDOW:
        return payload.length === 4 ? s.onWindow(windowIncrement(payload)) : s.violation('malformed WINDOW frame');
      case FrameType.FIN:
        return s.onFin();
      case FrameType.RST: {
        const { code, message } = parseReset(payload);
        return s.onReset(code, message);
      }
      default:
        return s.violation(`unexpected frame type ${type} on an open stream`);
    }
  }

  resetToward(_side: 'client' | 'gateway', code: ErrorCode, message: string): void {
    this.stream.onLinkClosed(new GatehouseError(code, message));
  }
}
