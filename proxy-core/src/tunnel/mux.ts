import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { createLogger } from '../log.ts';
import {
  FrameType,
  INITIAL_WINDOW,
  MAX_STREAM_ID,
  decodeFrame,
  encodeFrame,
  encodeReset,
  parseReset,
  streamIdOf,
  windowIncrement,
  type Frame,
} from './frames.ts';
import { rawDataToBuffer } from './raw-data.ts';
import type { StreamMeta } from './meta.ts';
import { CoalescingSender } from '../write-path.ts';
import { MuxStream, type StreamLink } from './stream.ts';

const log = createLogger('tunnel');

export interface MuxOptions {
  /** True on the WebSocket client side: it opens odd stream ids, the other side even ones. */
  initiator: boolean;
  /** Per-stream credit in each direction; both ends (and the relay) must agree. */
  initialWindow?: number;
  /** Ping interval; 0 disables the heartbeat. Default 15 s. */
  heartbeatIntervalMs?: number;
  /** Close the link when nothing (pong or message) arrives this long after a ping. Default 30 s. */
  heartbeatTimeoutMs?: number;
  /** Streams the peer may have open at once (each may buffer up to initialWindow). Default 1024. */
  maxStreams?: number;
  /** Writers pause while `ws.bufferedAmount` is above this. Default 1 MiB. */
  highWaterMark?: number;
  /** Paused writers resume once `ws.bufferedAmount` is at or below this. Default 256 KiB. */
  lowWaterMark?: number;
}

/** A link-level control message (text WebSocket message). */
export interface ControlMessage {
  type: string;
  [key: string]: unknown;
}

export interface MuxEvents {
  stream: [stream: MuxStream, meta: StreamMeta];
  control: [message: ControlMessage];
  close: [error: GatehouseError];
}

/** WebSocket close code for a link-level protocol violation. */
export const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_NORMAL = 1000;
const CLOSE_GRACE_MS = 2_000;

/**
 * Many MuxStreams over one WebSocket (docs/architecture.md, "Tunnel"). Owns the WebSocket:
 * create it with `perMessageDeflate: false`.
 */
export class Mux extends EventEmitter<MuxEvents> implements StreamLink {
  readonly #ws: WebSocket;
  readonly #sender: CoalescingSender;
  readonly #initiator: boolean;
  readonly #initialWindow: number;
  readonly #maxStreams: number;
  readonly #highWaterMark: number;
  readonly #lowWaterMark: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #streams = new Map<number, MuxStream>();
  readonly #drainWaiters = new Set<MuxStream>();
  readonly #queued: Buffer[] = [];
  #nextId: number;
  #closed: GatehouseError | undefined;
  #closeReason: string | undefined;
  #closing: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #pongTimer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, options: MuxOptions) {
    super();
    this.#ws = ws;
    this.#sender = new CoalescingSender(ws);
    this.#initiator = options.initiator;
    this.#initialWindow = options.initialWindow ?? INITIAL_WINDOW;
    this.#maxStreams = options.maxStreams ?? 1024;
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.#lowWaterMark = Math.min(options.lowWaterMark ?? 256 * 1024, this.#highWaterMark);
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 30_000;
    this.#nextId = options.initiator ? 1 : 2;
    ws.binaryType = 'nodebuffer';
    if (ws.extensions.includes('permessage-deflate')) log.warn('tunnel WebSocket negotiated permessage-deflate; create it with perMessageDeflate: false');

    ws.on('message', this.#onMessage);
    ws.on('pong', this.#onAlive);
    ws.on('error', (err) => log.debug({ err }, 'tunnel WebSocket error'));
    ws.on('close', (code, reason) => this.#teardown(`tunnel closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    ws.once('open', () => this.#flushQueued());
    if (ws.readyState === WebSocket.CLOSED) process.nextTick(() => this.#teardown('tunnel closed'));

    const interval = options.heartbeatIntervalMs ?? 15_000;
    if (interval > 0) this.#heartbeat = setInterval(this.#ping, interval).unref();
  }

  /** True once the link is closed; every stream is then destroyed. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Opens a stream toward the peer. On a closed link the stream errors with TUNNEL_CLOSED. */
  openStream(meta: StreamMeta): MuxStream {
    const id = this.#nextId;
    const stream = new MuxStream(this, id, meta, { initialWindow: this.#initialWindow });
    if (this.#closed !== undefined || id > MAX_STREAM_ID) {
      const error = this.#closed ?? new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'tunnel stream ids exhausted');
      process.nextTick(() => stream.onLinkClosed(error));
      return stream;
    }
    this.#nextId += 2;
    this.#streams.set(id, stream);
    this.sendFrame(encodeFrame(FrameType.OPEN, id, JSON.stringify(meta)));
    return stream;
  }

  /** Sends a link-level control message (a text WebSocket message). False if the link is closed. */
  sendControl(message: ControlMessage): boolean {
    if (this.#closed !== undefined) return false;
    return this.#send(JSON.stringify(message));
  }

  /** Closes the link; idempotent. Streams are destroyed with TUNNEL_CLOSED at once. */
  close(code = CLOSE_NORMAL, reason = ''): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#ws.readyState === WebSocket.CLOSED) return resolve();
      this.#ws.once('close', () => resolve());
      const force = setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS).unref();
      this.#ws.once('close', () => clearTimeout(force));
      this.#closeReason ??= 'tunnel closed locally';
      try {
        this.#ws.close(code, reason);
      } catch {
        this.#ws.terminate();
      }
    });
    this.#teardown(this.#closeReason ?? 'tunnel closed locally');
    return this.#closing;
  }

  // ---- StreamLink ----

  sendFrame(frame: Buffer): boolean {
    if (this.#closed !== undefined) return false;
    if (this.#ws.readyState === WebSocket.CONNECTING) {
      this.#queued.push(frame);
      return true;
    }
    return this.#send(frame);
  }

  congested(): boolean {
    return this.#ws.bufferedAmount > this.#highWaterMark;
  }

  waitForDrain(stream: MuxStream): void {
    this.#drainWaiters.add(stream);
  }

  forget(stream: MuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    this.#drainWaiters.delete(stream);
  }

  // ---- sending ----

  #send(data: Buffer | string): boolean {
    if (this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#sender.send(data, this.#onSent);
    return true;
  }

  readonly #onSent = (): void => {
    if (this.#drainWaiters.size === 0 || this.#ws.bufferedAmount > this.#lowWaterMark) return;
    const waiters = [...this.#drainWaiters];
    this.#drainWaiters.clear();
    for (const stream of waiters) stream.resumeWriting();
  };

  #flushQueued(): void {
    for (const frame of this.#queued.splice(0)) this.#send(frame);
    for (const stream of this.#streams.values()) stream.resumeWriting();
  }

  // ---- receiving ----

  readonly #onMessage = (data: RawData, isBinary: boolean): void => {
    this.#onAlive();
    if (this.#closed !== undefined) return;
    const buf = rawDataToBuffer(data);
    if (!isBinary) return this.#onControl(buf);
    let frame: Frame;
    try {
      frame = decodeFrame(buf);
    } catch (err) {
      return this.#onMalformed(buf, err as GatehouseError);
    }
    const stream = this.#streams.get(frame.streamId);
    switch (frame.type) {
      case FrameType.OPEN:
        return this.#onOpen(frame);
      case FrameType.DATA:
        if (stream) return stream.onData(frame.payload);
        return this.#resetUnknown(frame.streamId);
      case FrameType.WINDOW:
        // A late WINDOW for a stream that just finished is normal: ignore unknown ids.
        return stream?.onWindow(windowIncrement(frame.payload));
      case FrameType.FIN:
        if (stream) return stream.onFin();
        return this.#resetUnknown(frame.streamId);
      case FrameType.RST: {
        if (!stream) return; // never answer a RST with a RST
        const { code, message } = parseReset(frame.payload);
        return stream.onReset(code, message);
      }
    }
  };

  #onOpen(frame: Frame): void {
    const id = frame.streamId;
    const existing = this.#streams.get(id);
    if (existing) return existing.violation('OPEN for a stream that is already open');
    if ((id % 2 === 1) === this.#initiator) return this.#refuse(id, ErrorCodes.PROTOCOL, `stream id ${id} has the wrong parity`);
    if (this.#streams.size >= this.#maxStreams) return this.#refuse(id, ErrorCodes.TUNNEL_CLOSED, 'too many streams on this tunnel');
    if (this.listenerCount('stream') === 0) return this.#refuse(id, ErrorCodes.TUNNEL_CLOSED, 'streams are not accepted here');
    let meta: unknown;
    try {
      meta = JSON.parse(frame.payload.toString('utf8'));
    } catch {
      meta = undefined;
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      return this.#refuse(id, ErrorCodes.PROTOCOL, 'OPEN metadata must be a JSON object');
    }
    const stream = new MuxStream(this, id, meta as StreamMeta, { initialWindow: this.#initialWindow });
    this.#streams.set(id, stream);
    this.emit('stream', stream, stream.meta);
  }

  #onControl(buf: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(buf.toString('utf8'));
    } catch {
      message = undefined;
    }
    if (typeof message !== 'object' || message === null || typeof (message as ControlMessage).type !== 'string') {
      log.warn('dropped a tunnel control message that is not a JSON object with a type');
      return;
    }
    this.emit('control', message as ControlMessage);
  }

  #onMalformed(buf: Buffer, err: GatehouseError): void {
    const id = streamIdOf(buf);
    if (id === undefined || id === 0) {
      log.warn({ err }, 'malformed tunnel frame; closing the link');
      this.#closeReason = `tunnel protocol error: ${err.message}`;
      void this.close(CLOSE_PROTOCOL_ERROR, 'malformed frame');
      return;
    }
    const stream = this.#streams.get(id);
    if (stream) return stream.violation(err.message);
    if (buf[0] !== FrameType.RST) this.#refuse(id, ErrorCodes.PROTOCOL, err.message);
  }

  #resetUnknown(id: number): void {
    this.#refuse(id, ErrorCodes.TUNNEL_CLOSED, `unknown stream ${id}`);
  }

  #refuse(id: number, code: string, message: string): void {
    this.sendFrame(encodeReset(id, code, message));
  }

  // ---- liveness and teardown ----

  readonly #ping = (): void => {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#pongTimer ??= setTimeout(() => {
      log.warn('tunnel heartbeat timed out; closing the link');
      this.#closeReason = 'tunnel heartbeat timed out';
      this.#ws.terminate();
    }, this.#heartbeatTimeoutMs).unref();
    this.#ws.ping();
  };

  readonly #onAlive = (): void => {
    if (this.#pongTimer === undefined) return;
    clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
  };

  #teardown(reason: string): void {
    if (this.#closed !== undefined) return;
    const error = new GatehouseError(ErrorCodes.TUNNEL_CLOSED, this.#closeReason ?? reason);
    this.#closed = error;
    clearInterval(this.#heartbeat);
    this.#onAlive();
    this.#queued.length = 0;
    this.#drainWaiters.clear();
    for (const stream of [...this.#streams.values()]) stream.onLinkClosed(error);
    this.#streams.clear();
    this.emit('close', error);
  }
}
