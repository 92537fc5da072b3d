/**
 * CommandComplete ('C'): the command tag, e.g. `SELECT 3`, `INSERT 0 1`.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COMMANDCOMPLETE
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { BackendCode } from '../constants.ts';

export function createCommandComplete(tag: string): Buffer {
  return new BufferWriter().cstring(tag).typed(BackendCode.CommandComplete);
}

export function parseCommandComplete(payload: Buffer): { tag: string; rows?: number } {
  const r = new BufferReader(payload, 'CommandComplete');
  const tag = r.cstring();
  r.end();
  const last = tag.slice(tag.lastIndexOf(' ') + 1);
  return /^\d+$/.test(last) ? { tag, rows: Number(last) } : { tag };
}
