/**
 * Parse ('P'): prepare a statement (extended query protocol).
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARSE
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { FrontendCode } from '../constants.ts';

export interface ParseMessage {
  /** Prepared statement name; '' is the unnamed statement. */
  statement: string;
  sql: string;
  /** Parameter type OIDs (0 = unspecified). */
  paramTypes: number[];
}

export function createParse(msg: { statement?: string; sql: string; paramTypes?: number[] }): Buffer {
  const types = msg.paramTypes ?? [];
  const w = new BufferWriter()
    .cstring(msg.statement ?? '')
    .cstring(msg.sql)
    .int16(types.length);
  for (const t of types) w.int32(t);
  return w.typed(FrontendCode.Parse);
}

export function parseParse(payload: Buffer): ParseMessage {
  const r = new BufferReader(payload, 'Parse');
  const statement = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.uint32());
  r.end();
  return { statement, sql, paramTypes };
}
