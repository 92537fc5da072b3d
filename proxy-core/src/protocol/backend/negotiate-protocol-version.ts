/**
 * NegotiateProtocolVersion ('v'): newest minor version the server supports and the
 * protocol options (`_pq_.*`) it did not recognise.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NEGOTIATEPROTOCOLVERSION
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { BackendCode } from '../constants.ts';

export interface NegotiateProtocolVersion {
  /** Full version number, e.g. 196610 for 3.2. */
  newestVersion: number;
  unrecognizedOptions: string[];
}

export function createNegotiateProtocolVersion(v: NegotiateProtocolVersion): Buffer {
  const w = new BufferWriter().int32(v.newestVersion).int32(v.unrecognizedOptions.length);
  for (const o of v.unrecognizedOptions) w.cstring(o);
  return w.typed(BackendCode.NegotiateProtocolVersion);
}

export function parseNegotiateProtocolVersion(payload: Buffer): NegotiateProtocolVersion {
  const r = new BufferReader(payload, 'NegotiateProtocolVersion');
  const newestVersion = r.int32();
  const count = r.int32();
  const unrecognizedOptions: string[] = [];
  for (let i = 0; i < count; i++) unrecognizedOptions.push(r.cstring());
  r.end();
  return { newestVersion, unrecognizedOptions };
}
