import { ErrorCodes, type ErrorCode } from '../../../proxy-core/src/errors.ts';
import { FrameType, INITIAL_WINDOW, encodeFrame, rewriteStreamId } from '../../../proxy-core/src/tunnel/frames.ts';
import type { RelayStats } from './counters.ts';

/** One side of a relayed stream: a WebSocket link that frames are written to. */
export interface FrameSink {
  sendFrame(frame: Buffer): void;
}

type Side = 'client' | 'gateway';

/**
 * One stream relayed between a client tunnel (stream id `clientId`) and a gateway link
 * (stream id `gatewayId`). Frames pass through as they are, with only the stream id rewritten
 * in place: the payload (TLS ciphertext) is never decoded. The relay keeps its own count of
 * each direction's credit, so a peer that sends more than the window allows is reset instead
 * of making the relay buffer without bound.
 */
export class RelayedStream {
  private creditTowardGateway = INITIAL_WINDOW;
  private creditTowardClient = INITIAL_WINDOW;
  private clientFinished = false;
  private gatewayFinished = false;
  private done = false;

  constructor(
    readonly sessionId: string,
    readonly clientId: number,
    readonly gatewayId: number,
    private readonly client: FrameSink,
    private readonly gateway: FrameSink,
    private readonly stats: RelayStats,
    private readonly onDone: (stream: RelayedStream) => void,
  ) {
    stats.streamsOpen += 1;
    stats.streamsTotal += 1;
  }

  get closed(): boolean {
    return this.done;
  }

  /** A frame that arrived from the client tunnel (already known to carry `clientId`). */
  fromClient(type: number, frame: Buffer, payload: Buffer): void {
    this.forward('client', type, frame, payload);
  }

  /** A frame that arrived from the gateway link (already known to carry `gatewayId`). */
  fromGateway(type: number, frame: Buffer, payload: Buffer): void {
    this.forward('gateway', type, frame, payload);
  }

  /** Abort both directions with the same code (link lost, session ended, protocol violation). */
  reset(code: ErrorCode, message: string): void {
    if (this.done) return;
    const body = Buffer.from(JSON.stringify({ code, message }));
    this.client.sendFrame(encodeFrame(FrameType.RST, this.clientId, body));
    this.gateway.sendFrame(encodeFrame(FrameType.RST, this.gatewayId, body));
    this.finish();
  }

  /** Abort toward one side only (the other side is gone already). */
  resetToward(side: Side, code: ErrorCode, message: string): void {
    if (this.done) return;
    const body = Buffer.from(JSON.stringify({ code, message }));
    if (side === 'client') this.client.sendFrame(encodeFrame(FrameType.RST, this.clientId, body));
    else this.gateway.sendFrame(encodeFrame(FrameType.RST, this.gatewayId, body));
    this.finish();
  }

  private forward(from: Side, type: number, frame: Buffer, payload: Buffer): void {
    if (this.done) return;
    const toGateway = from === 'client';
    switch (type) {
      case FrameType.DATA: {
        const n = payload.length;
        if (toGateway) {
          this.creditTowardGateway -= n;
          this.stats.bytesClientToGateway += n;
        } else {
          this.creditTowardClient -= n;
          this.stats.bytesGatewayToClient += n;
        }
        if (this.creditTowardGateway < 0 || this.creditTowardClient < 0) {
          this.reset(ErrorCodes.PROTOCOL, `the ${from} sent more data than its window allows`);
          return;
        }
        break;
      }
      case FrameType.WINDOW: {
        if (payload.length !== 4) {
          this.reset(ErrorCodes.PROTOCOL, `malformed WINDOW frame from the ${from}`);
          return;
        }
        // Credit returned by `from` lets the other side send more toward `from`.
        if (toGateway) this.creditTowardClient += payload.readUInt32BE(0);
        else this.creditTowardGateway += payload.readUInt32BE(0);
        break;
      }
      case FrameType.FIN:
        if (toGateway) this.clientFinished = true;
        else this.gatewayFinished = true;
        break;
      case FrameType.RST:
        break;
      default:
        this.reset(ErrorCodes.PROTOCOL, `unexpected frame type ${type} from the ${from} on an open stream`);
        return;
    }
    rewriteStreamId(frame, toGateway ? this.gatewayId : this.clientId);
    (toGateway ? this.gateway : this.client).sendFrame(frame);
    if (type === FrameType.RST || (this.clientFinished && this.gatewayFinished)) this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.stats.streamsOpen -= 1;
    this.onDone(this);
  }
}
