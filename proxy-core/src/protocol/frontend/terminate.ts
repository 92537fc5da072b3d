/**
 * Terminate ('X'): the client is closing the connection.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-TERMINATE
 */
import { BufferWriter } from '../buffer-writer.ts';
import { FrontendCode } from '../constants.ts';

export function createTerminate(): Buffer {
  return new BufferWriter().typed(FrontendCode.Terminate);
}

export function isTerminate(code: number): boolean {
  return code === FrontendCode.Terminate;
}
