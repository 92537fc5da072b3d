/**
 * BackendKeyData ('K'): process id and cancel key (4 bytes on 3.0, up to 256 on 3.2).
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BACKENDKEYDATA
 */
import { ErrorCodes, GatehouseError } from '../../errors.ts';
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { BackendCode, MAX_CANCEL_KEY_LENGTH } from '../constants.ts';

export interface BackendKey {
  processId: number;
  secretKey: Buffer;
}

export function createBackendKeyData(key: BackendKey): Buffer {
  return new BufferWriter().int32(key.processId).bytes(key.secretKey).typed(BackendCode.BackendKeyData);
}

export function parseBackendKeyData(payload: Buffer): BackendKey {
  const r = new BufferReader(payload, 'BackendKeyData');
  const processId = r.int32();
  const secretKey = Buffer.from(r.rest());
  if (secretKey.length < 4 || secretKey.length > MAX_CANCEL_KEY_LENGTH) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `malformed BackendKeyData: cancel key of ${secretKey.length} bytes`);
  }
  return { processId, secretKey };
}
