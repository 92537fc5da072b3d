import { ErrorCodes, GatehouseError } from '../errors.ts';
import { DEFAULT_MAX_MESSAGE_LENGTH, MESSAGE_HEADER_LENGTH } from './constants.ts';

/** One typed message. `raw` is header + payload; `payload` is a view into `raw`. */
export interface Message {
  code: number;
  payload: Buffer;
  raw: Buffer;
}

export interface MessageFramerOptions {
  /** Largest payload accepted, in bytes. Default 64 MiB. */
  maxMessageLength?: number;
}

/**
 * Cuts a byte stream into typed messages (`[code u8][length i32][payload]`).
 *
 * Whole messages inside a chunk are returned as views into that chunk (no copy). A message
 * split across chunks is assembled into one buffer sized from its header, so a large
 * message arriving byte by byte costs one allocation. Returned buffers are never written
 * to again. After a length error the framer stays failed: the stream cannot be resynced.
 */
export class MessageFramer {
  private readonly maxMessageLength: number;
  private readonly header = Buffer.alloc(MESSAGE_HEADER_LENGTH);
  private headerFilled = 0;
  private partial: Buffer | undefined;
  private partialFilled = 0;
  private failure: GatehouseError | undefined;

  constructor(options: MessageFramerOptions = {}) {
    this.maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
  }

  /** Bytes held for a message not yet complete. */
  get pendingBytes(): number {
    return this.partial ? this.partialFilled : this.headerFilled;
  }

  push(chunk: Buffer): Message[] {
    if (this.failure) throw this.failure;
    const out: Message[] = [];
    let off = this.continuePartial(chunk, out);
    while (off < chunk.length) {
      const left = chunk.length - off;
      if (left < MESSAGE_HEADER_LENGTH) {
        chunk.copy(this.header, 0, off);
        this.headerFilled = left;
        return out;
      }
      const total = this.totalLength(chunk.readInt32BE(off + 1), chunk[off]);
      if (left >= total) {
        out.push(toMessage(chunk.subarray(off, off + total)));
        off += total;
      } else {
        this.partial = Buffer.allocUnsafe(total);
        chunk.copy(this.partial, 0, off);
        this.partialFilled = left;
        return out;
      }
    }
    return out;
  }

  /** Feeds the start of `chunk` into a pending message; returns how many bytes it used. */
  private continuePartial(chunk: Buffer, out: Message[]): number {
    let off = 0;
    if (this.headerFilled > 0) {
      const take = Math.min(MESSAGE_HEADER_LENGTH - this.headerFilled, chunk.length);
      chunk.copy(this.header, this.headerFilled, 0, take);
      this.headerFilled += take;
      off = take;
      if (this.headerFilled < MESSAGE_HEADER_LENGTH) return off;
      const total = this.totalLength(this.header.readInt32BE(1), this.header[0]);
      this.headerFilled = 0;
      this.partial = Buffer.allocUnsafe(total);
      this.header.copy(this.partial, 0);
      this.partialFilled = MESSAGE_HEADER_LENGTH;
    }
    if (!this.partial) return off;
    const take = Math.min(this.partial.length - this.partialFilled, chunk.length - off);
    chunk.copy(this.partial, this.partialFilled, off, off + take);
    this.partialFilled += take;
    off += take;
    if (this.partialFilled === this.partial.length) {
      out.push(toMessage(this.partial));
      this.partial = undefined;
      this.partialFilled = 0;
    }
    return off;
  }

  private totalLength(length: number, code: number | undefined): number {
    if (length < 4) {
      this.failure = new GatehouseError(ErrorCodes.PROTOCOL, `invalid message length ${length} for message type 0x${(code ?? 0).toString(16)}`);
      throw this.failure;
    }
    if (length - 4 > this.maxMessageLength) {
      this.failure = new GatehouseError(ErrorCodes.MESSAGE_TOO_LARGE, `message of ${length - 4} bytes exceeds the limit of ${this.maxMessageLength} bytes`);
      throw this.failure;
    }
    return length + 1;
  }
}

function toMessage(raw: Buffer): Message {
  return { code: raw[0], payload: raw.subarray(MESSAGE_HEADER_LENGTH), raw };
}
