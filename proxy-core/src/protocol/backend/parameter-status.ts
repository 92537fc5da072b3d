/**
 * ParameterStatus ('S'): a run-time parameter name and its value.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARAMETERSTATUS
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { BackendCode } from '../constants.ts';

export function createParameterStatus(name: string, value: string): Buffer {
  return new BufferWriter().cstring(name).cstring(value).typed(BackendCode.ParameterStatus);
}

export function parseParameterStatus(payload: Buffer): { name: string; value: string } {
  const r = new BufferReader(payload, 'ParameterStatus');
  const name = r.cstring();
  const value = r.cstring();
  r.end();
  return { name, value };
}
