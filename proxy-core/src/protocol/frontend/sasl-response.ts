/**
 * SASLResponse ('p'): mechanism-specific data (the SCRAM client-final-message).
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLRESPONSE
 */
import { BufferWriter } from '../buffer-writer.ts';
import { FrontendCode } from '../constants.ts';

export function createSASLResponse(data: Buffer): Buffer {
  return new BufferWriter().bytes(data).typed(FrontendCode.Password);
}

export function parseSASLResponse(payload: Buffer): { data: Buffer } {
  return { data: Buffer.from(payload) };
}
