import type { RawData, WebSocket } from 'ws';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { CoalescingSender } from '../../../proxy-core/src/write-path.ts';
import { FrameType, decodeFrame, encodeFrame } from '../../../proxy-core/src/tunnel/frames.ts';
import { rawDataToBuffer } from '../../../proxy-core/src/tunnel/raw-data.ts';
import { encodeControlMessage, parseControlMessage, type ControlMessage } from '../../../proxy-core/src/tunnel/control-messages.ts';
import type { RelayStats } from './counters.ts';
import { EventAckTracker } from './event-acks.ts';
import type { FrameSink } from './relayed-stream.ts';
import type { ErrorCode } from '../../../proxy-core/src/errors.ts';
import type { GatewayStreamMeta, RelayDeps } from './types.ts';

const log = createLogger('relay.gateway-link');

/** A stream on a gateway link: a relayed client stream (RelayedStream) or a local one (local-stream.ts). */
export interface LinkStream {
  fromGateway(type: number, frame: Buffer, payload: Buffer): void;
  resetToward(side: 'client' | 'gateway', code: ErrorCode, message: string): void;
}

/**
 * The control plane's end of one gateway's link. It opens streams toward the gateway (even
 * ids: the gateway dialed, so it is the initiator), routes frames of relayed streams, and
 * stores the gateway's session events, acknowledging only what is stored.
 */
export class GatewayLinkConnection implements FrameSink {
  readonly streams = new Map<number, LinkStream>();
  private nextStreamId = 2;
  private storing: Promise<void> = Promise.resolve();
  private readonly acks = new EventAckTracker();
  private readonly sender: CoalescingSender;

  constructor(
    readonly gatewayId: string,
    readonly ws: WebSocket,
    private readonly deps: RelayDeps,
    private readonly stats: RelayStats,
    private readonly direct: { directStreams: boolean; dialRefused(token: string, code: string, message: string): void },
  ) {
    this.sender = new CoalescingSender(ws);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
  }

  /** Whether the gateway dials back for direct streams (it said so on its link upgrade). */
  get directStreams(): boolean {
    return this.direct.directStreams;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Opens a stream toward the gateway; returns its id on this link. */
  openStream(meta: GatewayStreamMeta): number {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    this.sendFrame(encodeFrame(FrameType.OPEN, id, Buffer.from(JSON.stringify(meta))));
    return id;
  }

  sendFrame(frame: Buffer): void {
    if (this.open) this.sender.send(frame);
  }

  sendControl(message: ControlMessage): void {
    if (this.open) this.sender.send(encodeControlMessage(message));
  }

  /** Resolves when every events batch received so far has been stored or has failed. */
  drained(): Promise<void> {
    return this.storing;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const buf = rawDataToBuffer(data);
    if (!isBinary) {
      this.onControl(buf);
      return;
    }
    let frame;
    try {
      frame = decodeFrame(buf);
    } catch (err) {
      log.warn({ gatewayId: this.gatewayId, err }, 'malformed frame from gateway; closing link');
      this.ws.close(4002, 'malformed frame');
      return;
    }
    const stream = this.streams.get(frame.streamId);
    if (stream) {
      stream.fromGateway(frame.type, buf, frame.payload);
      return;
    }
    if (frame.type === FrameType.OPEN) {
      const body = Buffer.from(JSON.stringify({ code: ErrorCodes.PROTOCOL, message: 'gateways do not open streams' }));
      this.sendFrame(encodeFrame(FrameType.RST, frame.streamId, body));
    }
    // Frames for streams already finished (late WINDOW, RST after RST) are dropped.
  }

  private onControl(buf: Buffer): void {
    const parsed = parseControlMessage(buf.toString('utf8'));
    if (!parsed.ok) {
      const what = { gatewayId: this.gatewayId, type: parsed.type, error: parsed.error };
      if (parsed.problem === 'unknown-type') log.debug(what, 'unknown control message ignored');
      else log.warn(what, parsed.type === 'events' ? 'malformed events batch; not acked' : 'malformed control message ignored');
      return;
    }
    const message = parsed.message;
    if (message.type === 'dial-refused') {
      this.direct.dialRefused(message.token, message.code, message.message);
      return;
    }
    if (message.type !== 'events') {
      log.debug({ gatewayId: this.gatewayId, type: message.type }, 'control message not for the control plane ignored');
      return;
    }
    this.storing = this.storing.then(() => this.store(message.events));
  }

  private async store(events: Parameters<RelayDeps['storeEvents']>[1]): Promise<void> {
    const first = events[0].seq;
    const last = events[events.length - 1].seq;
    try {
      await this.deps.storeEvents(this.gatewayId, events);
    } catch (err) {
      this.acks.failed(first);
      log.error({ gatewayId: this.gatewayId, first, last, err }, 'storing session events failed; not acked (the gateway resends)');
      return;
    }
    this.stats.eventsStored += events.length;
    const ack = this.acks.stored(first, last);
    if (ack !== undefined) this.sendControl({ type: 'ack', seq: ack });
  }
}
