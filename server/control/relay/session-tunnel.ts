import { randomBytes } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { CoalescingSender } from '../../../proxy-core/src/write-path.ts';
import { FrameType, decodeFrame } from '../../../proxy-core/src/tunnel/frames.ts';
import { rawDataToBuffer } from '../../../proxy-core/src/tunnel/raw-data.ts';
import { encodeControlMessage, type ControlMessage } from '../../../proxy-core/src/tunnel/control-messages.ts';
import type { FrameSink, RelayedStream } from './relayed-stream.ts';
import { CloseCodes, type RelayDeps, type SessionEndReason } from './types.ts';

const log = createLogger('relay.session-tunnel');

export type TunnelAuthorization = Awaited<ReturnType<RelayDeps['authorizeTunnel']>>;

/**
 * The control plane's end of one client tunnel of a session. The client is the initiator
 * (odd stream ids); every OPEN is handed to `onOpen`, every other frame to its relayed stream.
 */
export class SessionTunnelConnection implements FrameSink {
  readonly streams = new Map<number, RelayedStream>();
  expiresAt: Date;
  /** Set once the session is over: no new streams, the tunnel closes shortly. */
  endReason: SessionEndReason | undefined;
  /** Opens direct streams of this session on this replica (sent to the client over this tunnel only). */
  readonly streamKey = randomBytes(24).toString('base64url');
  private readonly sender: CoalescingSender;

  constructor(
    readonly sessionId: string,
    readonly authorization: TunnelAuthorization,
    readonly ws: WebSocket,
    private readonly onOpen: (tunnel: SessionTunnelConnection, streamId: number, payload: Buffer) => void,
  ) {
    this.expiresAt = new Date(authorization.expiresAt);
    this.sender = new CoalescingSender(ws);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
  }

  /** Moves the expiry later (new streams carry it to the gateway); false when it is not later. */
  extend(expiresAt: Date): boolean {
    if (expiresAt.getTime() <= this.expiresAt.getTime()) return false;
    this.expiresAt = expiresAt;
    this.authorization.meta.session.expiresAt = expiresAt.toISOString();
    return true;
  }

  get gatewayId(): string {
    return this.authorization.gatewayId;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  sendFrame(frame: Buffer): void {
    if (this.open) this.sender.send(frame);
  }

  sendControl(message: ControlMessage): void {
    if (this.open) this.sender.send(encodeControlMessage(message));
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (!isBinary) return; // clients have no control messages for us
    const buf = rawDataToBuffer(data);
    let frame;
    try {
      frame = decodeFrame(buf);
    } catch (err) {
      log.warn({ sessionId: this.sessionId, err }, 'malformed frame from client; closing tunnel');
      this.close(CloseCodes.PROTOCOL, 'malformed frame');
      return;
    }
    if (frame.type === FrameType.OPEN) {
      this.onOpen(this, frame.streamId, frame.payload);
      return;
    }
    this.streams.get(frame.streamId)?.fromClient(frame.type, buf, frame.payload);
  }
}
