import { ErrorCodes, GatehouseError } from '../errors.ts';
import { MESSAGE_HEADER_LENGTH } from './constants.ts';

/**
 * Follows the typed-message framing of a byte stream without copying or parsing payloads,
 * so that a message (an ErrorResponse, a notice) can be injected between two messages.
 * Starts at a boundary (e.g. right after the startup reply).
 */
export class BoundaryTracker {
  private readonly header = Buffer.alloc(MESSAGE_HEADER_LENGTH);
  private headerFilled = 0;
  /** Payload bytes still to come for the current message. */
  private bodyLeft = 0;

  /** True when every byte fed so far ends exactly at the end of a message. */
  get atBoundary(): boolean {
    return this.headerFilled === 0 && this.bodyLeft === 0;
  }

  feed(chunk: Buffer): void {
    this.advance(chunk, false);
  }

  /**
   * Splits `chunk` at the first message boundary reached within it and feeds the head:
   * `head` finishes the message in progress (empty when already at a boundary), `tail` is
   * everything after it (not fed). If the chunk ends before the message does, `head` is the
   * whole chunk and `tail` is empty.
   */
  splitAtBoundary(chunk: Buffer): [head: Buffer, tail: Buffer] {
    const used = this.advance(chunk, true);
    return [chunk.subarray(0, used), chunk.subarray(used)];
  }

  /** Consumes bytes; with `stopAtBoundary`, stops at the first boundary. Returns bytes used. */
  private advance(chunk: Buffer, stopAtBoundary: boolean): number {
    let off = 0;
    if (stopAtBoundary && this.atBoundary) return 0;
    while (off < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - off);
        this.bodyLeft -= take;
        off += take;
      } else {
        // inside a header (possibly at its very start)
        const take = Math.min(MESSAGE_HEADER_LENGTH - this.headerFilled, chunk.length - off);
        chunk.copy(this.header, this.headerFilled, off, off + take);
        this.headerFilled += take;
        off += take;
        if (this.headerFilled < MESSAGE_HEADER_LENGTH) continue;
        const length = this.header.readInt32BE(1);
        if (length < 4) {
          throw new GatehouseError(ErrorCodes.PROTOCOL, `invalid message length ${length} in stream`);
        }
        this.headerFilled = 0;
        this.bodyLeft = length - 4;
      }
      if (stopAtBoundary && this.atBoundary) return off;
    }
    return off;
  }
}
