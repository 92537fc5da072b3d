/**
 * Bind ('B'): bind parameter values to a prepared statement, creating a portal.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BIND
 */
import { ErrorCodes, GatehouseError } from '../../errors.ts';
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { FrontendCode } from '../constants.ts';

const FORMAT_TEXT = 0;
const FORMAT_BINARY = 1;
const NULL_LENGTH = -1;

export interface BindMessage {
  portal: string;
  statement: string;
  /** As sent: none (all text), one (applies to all) or one per parameter. */
  paramFormats: number[];
  /** Raw parameter bytes (views into the payload); null for SQL NULL. */
  params: (Buffer | null)[];
  resultFormats: number[];
}

/** A string is sent in text format, a Buffer in binary format. */
export function createBind(msg: { portal?: string; statement?: string; params: (string | Buffer | null)[]; resultFormats?: number[] }): Buffer {
  const w = new BufferWriter().cstring(msg.portal ?? '').cstring(msg.statement ?? '');
  w.int16(msg.params.length);
  for (const p of msg.params) w.int16(Buffer.isBuffer(p) ? FORMAT_BINARY : FORMAT_TEXT);
  w.int16(msg.params.length);
  for (const p of msg.params) {
    if (p === null) {
      w.int32(NULL_LENGTH);
      continue;
    }
    const bytes = Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8');
    w.int32(bytes.length).bytes(bytes);
  }
  const rf = msg.resultFormats ?? [];
  w.int16(rf.length);
  for (const f of rf) w.int16(f);
  return w.typed(FrontendCode.Bind);
}

export function parseBind(payload: Buffer): BindMessage {
  const r = new BufferReader(payload, 'Bind');
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats = int16List(r);
  const n = r.int16();
  if (n < 0) throw new GatehouseError(ErrorCodes.PROTOCOL, 'malformed Bind: negative parameter count');
  if (paramFormats.length > 1 && paramFormats.length !== n) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `malformed Bind: ${paramFormats.length} formats for ${n} parameters`);
  }
  const params: (Buffer | null)[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    params.push(len === NULL_LENGTH ? null : r.bytes(len));
  }
  const resultFormats = int16List(r);
  r.end();
  return { portal, statement, paramFormats, params, resultFormats };
}

/** Format code of parameter `i` (0 text, 1 binary). */
export function bindParamFormat(bind: BindMessage, i: number): number {
  if (bind.paramFormats.length === 0) return FORMAT_TEXT;
  if (bind.paramFormats.length === 1) return bind.paramFormats[0];
  return bind.paramFormats[i] ?? FORMAT_TEXT;
}

/** Parameters for a log: text ones as strings, binary ones as base64. */
export function bindParamsForDisplay(bind: BindMessage): (string | null)[] {
  return bind.params.map((p, i) => {
    if (p === null) return null;
    return bindParamFormat(bind, i) === FORMAT_BINARY ? p.toString('base64') : p.toString('utf8');
  });
}

function int16List(r: BufferReader): number[] {
  const n = r.int16();
  if (n < 0) throw new GatehouseError(ErrorCodes.PROTOCOL, 'malformed Bind: negative count');
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.int16());
  return out;
}
