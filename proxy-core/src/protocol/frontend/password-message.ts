/**
 * PasswordMessage ('p'): cleartext or MD5-hashed password, NUL-terminated.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PASSWORDMESSAGE
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { FrontendCode } from '../constants.ts';

export function createPasswordMessage(password: string): Buffer {
  return new BufferWriter().cstring(password).typed(FrontendCode.Password);
}

export function parsePasswordMessage(payload: Buffer): { password: string } {
  const r = new BufferReader(payload, 'PasswordMessage');
  const password = r.cstring();
  r.end();
  return { password };
}
