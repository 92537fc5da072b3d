/**
 * ReadyForQuery ('Z'): transaction status 'I' idle, 'T' in a transaction, 'E' failed transaction.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-READYFORQUERY
 */
import { ErrorCodes, GatehouseError } from '../../errors.ts';
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { BackendCode, type TransactionStatus } from '../constants.ts';

export function createReadyForQuery(status: TransactionStatus = 'I'): Buffer {
  return new BufferWriter().int8(status.charCodeAt(0)).typed(BackendCode.ReadyForQuery);
}

export function parseReadyForQuery(payload: Buffer): TransactionStatus {
  const r = new BufferReader(payload, 'ReadyForQuery');
  const s = String.fromCharCode(r.int8());
  r.end();
  if (s !== 'I' && s !== 'T' && s !== 'E') {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `malformed ReadyForQuery: status ${JSON.stringify(s)}`);
  }
  return s;
}
