/**
 * SASLInitialResponse ('p'): chosen mechanism and the client-first-message.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLINITIALRESPONSE
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { FrontendCode } from '../constants.ts';

export function createSASLInitialResponse(mechanism: string, data: Buffer): Buffer {
  return new BufferWriter().cstring(mechanism).int32(data.length).bytes(data).typed(FrontendCode.Password);
}

export function parseSASLInitialResponse(payload: Buffer): { mechanism: string; data: Buffer | null } {
  const r = new BufferReader(payload, 'SASLInitialResponse');
  const mechanism = r.cstring();
  const len = r.int32();
  const data = len === -1 ? null : Buffer.from(r.bytes(len));
  r.end();
  return { mechanism, data };
}
