import { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError, type ErrorCode } from '../errors.ts';
import { FrameType, MAX_DATA_PAYLOAD, encodeFrame, encodeReset, encodeWindow } from './frames.ts';
import type { StreamMeta } from './meta.ts';

/** What a MuxStream needs from the link that carries it (implemented by Mux). */
export interface StreamLink {
  /** Sends a frame now (control frames are never held back). False when the link is gone. */
  sendFrame(frame: Buffer): boolean;
  /** True while the WebSocket's buffer is above its high-water mark. */
  congested(): boolean;
  /** Calls `stream.resumeWriting()` once the link has drained. */
  waitForDrain(stream: MuxStream): void;
  /** The stream is destroyed; forget it. */
  forget(stream: MuxStream): void;
}

export interface MuxStreamOptions {
  /** Credit each direction starts with (must match the peer's). */
  initialWindow: number;
}

interface PendingWrite {
  chunk: Buffer;
  offset: number;
  callback: (err?: Error | null) => void;
}

const ERROR_CODES = new Set<string>(Object.values(ErrorCodes));
/** Return credit once this much has been consumed (capped by a quarter of the window). */
const CREDIT_BATCH = 256 * 1024;

/**
 * One stream of a Mux: a Duplex (allowHalfOpen) whose writes are held while the peer has
 * not granted credit and whose reads return credit as the application consumes them.
 */
export class MuxStream extends Duplex {
  readonly id: number;
  readonly meta: StreamMeta;
  readonly #link: StreamLink;
  readonly #initialWindow: number;
  readonly #creditBatch: number;
  #sendCredit: number;
  #received = 0;
  #credited = 0;
  #pending: PendingWrite | undefined;
  #finSent = false;
  #finReceived = false;
  #resetSeen = false;

  constructor(link: StreamLink, id: number, meta: StreamMeta, options: MuxStreamOptions) {
    super({ allowHalfOpen: true });
    this.id = id;
    this.meta = meta;
    this.#link = link;
    this.#initialWindow = options.initialWindow;
    this.#sendCredit = options.initialWindow;
    this.#creditBatch = Math.max(1, Math.min(CREDIT_BATCH, Math.floor(options.initialWindow / 4)));
  }

  /** Aborts both directions and tells the peer why (RST). */
  reset(code: string, message: string): void {
    if (this.destroyed) return;
    this.#sendReset(code, message);
    this.destroy();
  }

  // ---- application side (Duplex) ----

  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    this.#returnCredit();
    return chunk;
  }

  override _read(): void {
    // Data arrives when the peer sends it; credit (returned in read()) is the backpressure.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#enqueue(chunk, callback);
  }

  /** Chunks written together (a corked TLS socket flushing its records) become one frame. */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    const chunk = chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.#enqueue(chunk, callback);
  }

  #enqueue(chunk: Buffer, callback: (err?: Error | null) => void): void {
    this.#pending = { chunk, offset: 0, callback };
    this.resumeWriting();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (!this.#link.sendFrame(encodeFrame(FrameType.FIN, this.id))) {
      callback(tunnelClosed());
      return;
    }
    this.#finSent = true;
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#resetSeen && !(this.#finSent && this.#finReceived)) {
      const code = errorCodeOf(err) ?? ErrorCodes.TUNNEL_CLOSED;
      this.#sendReset(code, err?.message ?? 'stream closed before it finished');
    }
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.callback(err ?? tunnelClosed());
    this.#link.forget(this);
    callback(err);
  }

  // ---- link side (called by Mux) ----

  /** Sends as much of the pending write as credit and the link allow. */
  resumeWriting(): void {
    const pending = this.#pending;
    if (pending === undefined || this.destroyed) return;
    const { chunk } = pending;
    while (pending.offset < chunk.length) {
      if (this.#sendCredit <= 0) return; // resumed by onWindow
      if (this.#link.congested()) {
        this.#link.waitForDrain(this);
        return;
      }
      const n = Math.min(chunk.length - pending.offset, this.#sendCredit, MAX_DATA_PAYLOAD);
      if (!this.#link.sendFrame(encodeFrame(FrameType.DATA, this.id, chunk.subarray(pending.offset, pending.offset + n)))) return;
      pending.offset += n;
      this.#sendCredit -= n;
    }
    this.#pending = undefined;
    pending.callback();
  }

  onData(payload: Buffer): void {
    if (this.destroyed) return;
    if (this.#finReceived) return this.violation('DATA after FIN');
    const allowed = this.#initialWindow + this.#credited - this.#received;
    if (payload.length > allowed) return this.violation(`DATA of ${payload.length} bytes exceeds the ${allowed} bytes of credit`);
    this.#received += payload.length;
    this.push(payload);
    this.#returnCredit();
  }

  onWindow(increment: number): void {
    if (this.destroyed) return;
    this.#sendCredit += increment;
    this.resumeWriting();
  }

  onFin(): void {
    if (this.destroyed) return;
    if (this.#finReceived) return this.violation('second FIN');
    this.#finReceived = true;
    this.push(null);
  }

  onReset(code: string, message: string): void {
    this.#resetSeen = true;
    this.destroy(new GatehouseError(ERROR_CODES.has(code) ? (code as ErrorCode) : ErrorCodes.TUNNEL_CLOSED, message));
  }

  /** The peer broke the protocol on this stream: RST it with PROTOCOL, others carry on. */
  violation(message: string): void {
    if (this.destroyed) return;
    const error = new GatehouseError(ErrorCodes.PROTOCOL, `tunnel stream ${this.id}: ${message}`);
    this.#sendReset(error.code, error.message);
    this.destroy(error);
  }

  /** The link is gone: no frames can be sent any more. */
  onLinkClosed(error: GatehouseError): void {
    this.#resetSeen = true;
    this.destroy(error);
  }

  #returnCredit(): void {
    if (this.#finReceived || this.destroyed) return;
    const unreturned = this.#received - this.readableLength - this.#credited;
    if (unreturned < this.#creditBatch) return;
    this.#credited += unreturned;
    this.#link.sendFrame(encodeWindow(this.id, unreturned));
  }

  #sendReset(code: string, message: string): void {
    if (this.#resetSeen) return;
    this.#resetSeen = true;
    this.#link.sendFrame(encodeReset(this.id, code, message));
  }
}

function errorCodeOf(err: Error | null): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ERROR_CODES.has(code) ? code : undefined;
}

function tunnelClosed(): GatehouseError {
  return new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'tunnel closed');
}
