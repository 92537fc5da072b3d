import { ErrorCodes, GatehouseError } from '../errors.ts';

/**
 * Reads PostgreSQL wire types from a payload. Every read is bounds-checked and a short or
 * malformed payload throws `GatehouseError(PROTOCOL)`, never a RangeError.
 */
export class BufferReader {
  private offset = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what = 'message',
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  int8(): number {
    this.need(1);
    return this.buf.readUInt8(this.offset++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw this.fail('a string without its terminating NUL');
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }

  /** `n` raw bytes (a view, not a copy). */
  bytes(n: number): Buffer {
    if (n < 0) throw this.fail(`a negative length (${n})`);
    this.need(n);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  /** The rest of the payload (a view). */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Throws unless the whole payload has been consumed. */
  end(): void {
    if (this.remaining !== 0) throw this.fail(`${this.remaining} unexpected trailing bytes`);
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw this.fail('fewer bytes than its fields need');
  }

  private fail(why: string): GatehouseError {
    return new GatehouseError(ErrorCodes.PROTOCOL, `malformed ${this.what}: ${why}`);
  }
}
