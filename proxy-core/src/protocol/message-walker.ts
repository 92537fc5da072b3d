import { ErrorCodes, GatehouseError } from '../errors.ts';
import { MESSAGE_HEADER_LENGTH } from './constants.ts';

/**
 * How many payload bytes of a message with this code the consumer wants to see
 * (0: only its code and length).
 */
export type CaptureLimit = (code: number) => number;

/**
 * `payload` is the first `min(length, limit)` bytes of the message, valid only during the
 * call (copy what you keep); `length` is the full payload length.
 */
export type WalkedMessage = (code: number, payload: Buffer, length: number) => void;

const EMPTY = Buffer.alloc(0);
const NOTHING: CaptureLimit = () => 0;
const IGNORE: WalkedMessage = () => undefined;

/**
 * The one walk over the typed messages (`[code u8][length i32][payload]`) of one direction of a
 * PG stream on the data path. Each hop walks each direction once with it: the local proxy to
 * count statements and to inject a notice or a final error between two server messages, the
 * gateway to record and to inject (the recorder and the splice share the walker of a
 * direction). (The startup and authentication exchange, which needs whole messages, uses
 * MessageFramer.)
 *
 * It never assembles a message it was not asked for: CopyData and DataRow bytes are only
 * counted, and a wanted message is captured up to its limit. So a 1 GiB row costs nothing here
 * and there is no message size cap that could stop the recording. Payloads of messages whole
 * inside one chunk are views into that chunk (no copy). Starts at a boundary (e.g. right after
 * the startup packet or reply). A length below 4 throws a GatehouseError (PROTOCOL); the
 * stream cannot be resynced after it.
 */
export class MessageWalker {
  private readonly header = Buffer.alloc(MESSAGE_HEADER_LENGTH);
  private headerFilled = 0;
  private code = 0;
  private length = 0;
  /** Payload bytes of the current message not yet seen. */
  private bodyLeft = 0;
  /** Capture buffer of the current message (only for a message split across chunks). */
  private capture: Buffer | undefined;
  private captureFilled = 0;
  private inMessage = false;

  constructor(
    private readonly limit: CaptureLimit = NOTHING,
    private readonly onMessage: WalkedMessage = IGNORE,
  ) {}

  /** True when every byte pushed so far ends exactly at the end of a message. */
  get atBoundary(): boolean {
    return !this.inMessage && this.headerFilled === 0;
  }

  push(chunk: Buffer): void {
    this.walk(chunk, false);
  }

  /**
   * Splits `chunk` at the first message boundary reached within it and walks the head: `head`
   * finishes the message in progress (empty when already at a boundary), `tail` is everything
   * after it (not walked). If the chunk ends before the message does, `head` is the whole chunk
   * and `tail` is empty. Both are views of `chunk`.
   */
  splitAtBoundary(chunk: Buffer): [head: Buffer, tail: Buffer] {
    const used = this.walk(chunk, true);
    return [chunk.subarray(0, used), chunk.subarray(used)];
  }

  /** Walks bytes; with `stopAtBoundary`, stops at the first boundary. Returns bytes used. */
  private walk(chunk: Buffer, stopAtBoundary: boolean): number {
    if (stopAtBoundary && this.atBoundary) return 0;
    let off = 0;
    while (off < chunk.length) {
      if (!this.inMessage) {
        if (this.headerFilled === 0 && chunk.length - off >= MESSAGE_HEADER_LENGTH) {
          off = this.wholeOrStart(chunk, off);
        } else {
          const take = Math.min(MESSAGE_HEADER_LENGTH - this.headerFilled, chunk.length - off);
          chunk.copy(this.header, this.headerFilled, off, off + take);
          this.headerFilled += take;
          off += take;
          if (this.headerFilled < MESSAGE_HEADER_LENGTH) return off;
          this.headerFilled = 0;
          this.begin(this.header[0], this.header.readInt32BE(1));
          if (this.bodyLeft === 0) this.finish();
        }
      } else {
        off = this.continueBody(chunk, off);
      }
      if (stopAtBoundary && this.atBoundary) return off;
    }
    return off;
  }

  /** At a header that is whole in `chunk`: deliver the message if whole, else start it. */
  private wholeOrStart(chunk: Buffer, off: number): number {
    const code = chunk[off];
    const length = checkedLength(chunk.readInt32BE(off + 1), code);
    const start = off + MESSAGE_HEADER_LENGTH;
    if (chunk.length - start >= length) {
      const want = Math.min(this.limit(code), length);
      this.onMessage(code, want > 0 ? chunk.subarray(start, start + want) : EMPTY, length);
      return start + length;
    }
    this.begin(code, length + 4);
    return start;
  }

  private begin(code: number, lengthField: number): void {
    this.code = code;
    this.length = checkedLength(lengthField, code);
    this.bodyLeft = this.length;
    const want = Math.min(this.limit(code), this.length);
    this.capture = want > 0 ? Buffer.allocUnsafe(want) : undefined;
    this.captureFilled = 0;
    this.inMessage = true;
  }

  private continueBody(chunk: Buffer, off: number): number {
    const take = Math.min(this.bodyLeft, chunk.length - off);
    if (this.capture && this.captureFilled < this.capture.length) {
      const n = Math.min(take, this.capture.length - this.captureFilled);
      chunk.copy(this.capture, this.captureFilled, off, off + n);
      this.captureFilled += n;
    }
    this.bodyLeft -= take;
    if (this.bodyLeft === 0) this.finish();
    return off + take;
  }

  private finish(): void {
    const payload = this.capture ?? EMPTY;
    this.capture = undefined;
    this.inMessage = false;
    this.onMessage(this.code, payload, this.length);
  }
}

/** Payload length from a length field; throws on a length below 4. */
function checkedLength(lengthField: number, code: number): number {
  if (lengthField < 4) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `invalid message length ${lengthField} for message type 0x${code.toString(16)}`);
  }
  return lengthField - 4;
}
