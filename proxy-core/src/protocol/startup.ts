/**
 * Untyped packets a client sends before StartupMessage: SSLRequest, GSSENCRequest,
 * CancelRequest, StartupMessage (protocol 3.0 and 3.2).
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { BufferReader } from './buffer-reader.ts';
import { BufferWriter } from './buffer-writer.ts';
import {
  CANCEL_REQUEST_CODE,
  GSSENC_REQUEST_CODE,
  MAX_CANCEL_KEY_LENGTH,
  MAX_STARTUP_PACKET_LENGTH,
  NAMEDATALEN,
  SSL_REQUEST_CODE,
  STARTUP_HEADER_LENGTH,
} from './constants.ts';

export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; processId: number; secretKey: Buffer }
  | {
      kind: 'startup';
      protocolVersion: number;
      parameters: Record<string, string>;
      protocolOptions: Record<string, string>;
    };

const PROTOCOL_OPTION_PREFIX = '_pq_.';
/** The startup parameters PostgreSQL cuts to NAMEDATALEN − 1 bytes instead of refusing them. */
const NAME_PARAMETERS = new Set(['user', 'database', 'application_name']);
const MIN_PACKET_LENGTH = 8;

/**
 * Takes one untyped packet (length included) off the front of `buf`.
 * Returns undefined while the packet is incomplete; throws `GatehouseError(PROTOCOL)` as soon
 * as the length is known to be invalid (under 8 or over 10,000 bytes).
 */
export function readStartupPacket(buf: Buffer): { packet: Buffer; rest: Buffer } | undefined {
  if (buf.length < STARTUP_HEADER_LENGTH) return undefined;
  const length = buf.readInt32BE(0);
  if (length < MIN_PACKET_LENGTH || length > MAX_STARTUP_PACKET_LENGTH) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `invalid startup packet length ${length} (allowed ${MIN_PACKET_LENGTH}..${MAX_STARTUP_PACKET_LENGTH})`);
  }
  if (buf.length < length) return undefined;
  return { packet: buf.subarray(0, length), rest: buf.subarray(length) };
}

/**
 * Parses one untyped packet. Like PostgreSQL, an over-long `user`, `database` or
 * `application_name` is truncated to NAMEDATALEN − 1 bytes (never inside a UTF-8 character)
 * rather than refused, so everyone downstream (the tunnel metadata, the gateway's recorder,
 * the upstream StartupMessage) sees the name the database will use.
 */
export function parseStartupPacket(packet: Buffer): StartupPacket {
  const r = new BufferReader(packet, 'startup packet');
  const length = r.int32();
  if (length !== packet.length) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `startup packet length ${length} does not match its ${packet.length} bytes`);
  }
  const code = r.int32();
  if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
    r.end();
    return { kind: code === SSL_REQUEST_CODE ? 'ssl' : 'gssenc' };
  }
  if (code === CANCEL_REQUEST_CODE) {
    const processId = r.int32();
    const secretKey = Buffer.from(r.rest());
    if (secretKey.length < 4 || secretKey.length > MAX_CANCEL_KEY_LENGTH) {
      throw new GatehouseError(ErrorCodes.PROTOCOL, `invalid cancel key length ${secretKey.length}`);
    }
    return { kind: 'cancel', processId, secretKey };
  }
  if (code >>> 16 !== 3) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0 to 3.2`);
  }
  const parameters = Object.create(null) as Record<string, string>;
  const protocolOptions = Object.create(null) as Record<string, string>;
  for (;;) {
    const name = r.cstring();
    if (name === '') break;
    const value = r.cstring();
    if (name.startsWith(PROTOCOL_OPTION_PREFIX)) protocolOptions[name] = value;
    else parameters[name] = NAME_PARAMETERS.has(name) ? truncateName(value) : value;
  }
  r.end();
  return { kind: 'startup', protocolVersion: code, parameters: { ...parameters }, protocolOptions: { ...protocolOptions } };
}

/** `value` cut to at most NAMEDATALEN − 1 UTF-8 bytes, on a character boundary (PostgreSQL's pg_mbcliplen). */
export function truncateName(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < NAMEDATALEN) return value;
  let end = NAMEDATALEN - 1;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // bytes[end] continues the character before it
  return bytes.toString('utf8', 0, end);
}

export function createStartupMessage(protocolVersion: number, params: Record<string, string>, protocolOptions: Record<string, string> = {}): Buffer {
  const w = new BufferWriter(STARTUP_HEADER_LENGTH).int32(protocolVersion);
  for (const [k, v] of Object.entries(params)) w.cstring(k).cstring(v);
  for (const [k, v] of Object.entries(protocolOptions)) w.cstring(k).cstring(v);
  const out = w.cstring('').untyped();
  if (out.length > MAX_STARTUP_PACKET_LENGTH) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `startup packet of ${out.length} bytes exceeds ${MAX_STARTUP_PACKET_LENGTH}`);
  }
  return out;
}

export function createCancelRequest(processId: number, secretKey: Buffer): Buffer {
  if (secretKey.length < 4 || secretKey.length > MAX_CANCEL_KEY_LENGTH) {
    throw new GatehouseError(ErrorCodes.PROTOCOL, `invalid cancel key length ${secretKey.length}`);
  }
  return new BufferWriter(STARTUP_HEADER_LENGTH).int32(CANCEL_REQUEST_CODE).int32(processId).bytes(secretKey).untyped();
}

export function createSSLRequest(): Buffer {
  return new BufferWriter(STARTUP_HEADER_LENGTH).int32(SSL_REQUEST_CODE).untyped();
}

export function createGSSENCRequest(): Buffer {
  return new BufferWriter(STARTUP_HEADER_LENGTH).int32(GSSENC_REQUEST_CODE).untyped();
}
