/**
 * Query ('Q'): simple query protocol, one string of SQL.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-QUERY
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { FrontendCode } from '../constants.ts';

export function createQuery(sql: string): Buffer {
  return new BufferWriter().cstring(sql).typed(FrontendCode.Query);
}

export function parseQuery(payload: Buffer): { sql: string } {
  const r = new BufferReader(payload, 'Query');
  const sql = r.cstring();
  r.end();
  return { sql };
}
