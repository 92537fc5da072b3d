import { MESSAGE_HEADER_LENGTH, STARTUP_HEADER_LENGTH } from './constants.ts';

const INITIAL_SIZE = 256;

/**
 * Builds a PostgreSQL message: append fields, then `typed(code)` or `untyped()` to get the
 * framed bytes with the length filled in.
 */
export class BufferWriter {
  private buf: Buffer;
  private offset: number;
  private readonly start: number;

  /** `headerRoom` reserves space for the header written by `typed`/`untyped`. */
  constructor(headerRoom = MESSAGE_HEADER_LENGTH) {
    this.buf = Buffer.allocUnsafe(INITIAL_SIZE);
    this.start = headerRoom;
    this.offset = headerRoom;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeUInt8(v & 0xff, this.offset);
    this.offset += 1;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.offset);
    this.offset += 4;
    return this;
  }

  cstring(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.ensure(len + 1);
    this.buf.write(s, this.offset, 'utf8');
    this.offset += len;
    this.buf[this.offset++] = 0;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  /** A typed message: code byte, Int32 length (payload + 4), payload. */
  typed(code: number): Buffer {
    const out = this.buf.subarray(this.start - MESSAGE_HEADER_LENGTH, this.offset);
    out[0] = code;
    out.writeInt32BE(out.length - 1, 1);
    return out;
  }

  /** An untyped (startup) packet: Int32 length (whole packet), payload. */
  untyped(): Buffer {
    const out = this.buf.subarray(this.start - STARTUP_HEADER_LENGTH, this.offset);
    out.writeInt32BE(out.length, 0);
    return out;
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }
}
