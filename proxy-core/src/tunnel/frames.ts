import { GatehouseError, ErrorCodes } from '../errors.ts';

/**
 * Tunnel frames: one binary WebSocket message = `[type u8][streamId u32 BE][payload]`.
 * See docs/architecture.md ("Tunnel").
 */
export const FrameType = {
  OPEN: 1, // UTF-8 JSON stream metadata
  DATA: 2, // bytes, at most MAX_DATA_PAYLOAD
  WINDOW: 3, // u32 BE credit increment
  FIN: 4, // no payload: half-close
  RST: 5, // UTF-8 JSON { code, message }: abort both directions
} as const;

export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_HEADER_LENGTH = 5;
/** Largest DATA payload a sender may put in one frame. */
export const MAX_DATA_PAYLOAD = 64 * 1024;
/** Credit each side of a stream starts with, in each direction. */
export const INITIAL_WINDOW = 1024 * 1024;
/** Largest OPEN / RST JSON payload accepted. */
export const MAX_JSON_PAYLOAD = 64 * 1024;
/** Largest frame a well-behaved peer sends; a sensible `maxPayload` for the WebSocket. */
export const MAX_FRAME_LENGTH = FRAME_HEADER_LENGTH + Math.max(MAX_DATA_PAYLOAD, MAX_JSON_PAYLOAD);
/** Stream ids are u32; 0 is never used. */
export const MAX_STREAM_ID = 0xffff_ffff;
const WINDOW_PAYLOAD_LENGTH = 4;
const MAX_WINDOW_INCREMENT = 0x7fff_ffff;

export interface Frame {
  type: FrameType;
  streamId: number;
  /** A view into the received buffer (no copy). */
  payload: Buffer;
}

/** Header + payload in one allocation. `payload` may be bytes or a string (UTF-8). */
export function encodeFrame(type: FrameType, streamId: number, payload?: Uint8Array | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const length = bytes === undefined ? 0 : bytes.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  frame[0] = type;
  frame.writeUInt32BE(streamId, 1);
  if (bytes !== undefined) frame.set(bytes, FRAME_HEADER_LENGTH);
  return frame;
}

export function encodeWindow(streamId: number, increment: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + WINDOW_PAYLOAD_LENGTH);
  frame[0] = FrameType.WINDOW;
  frame.writeUInt32BE(streamId, 1);
  frame.writeUInt32BE(increment, FRAME_HEADER_LENGTH);
  return frame;
}

export function encodeReset(streamId: number, code: string, message: string): Buffer {
  return encodeFrame(FrameType.RST, streamId, JSON.stringify({ code, message }));
}

/**
 * Decodes one frame. Throws GatehouseError(PROTOCOL) when it is malformed: too short, an
 * unknown type, stream id 0, or a payload that does not fit the type. `streamIdOf(buf)`
 * still tells which stream a malformed frame was aimed at.
 */
export function decodeFrame(buf: Buffer): Frame {
  if (buf.length < FRAME_HEADER_LENGTH) throw protocolError(`frame of ${buf.length} bytes is shorter than its header`);
  const type = buf[0];
  const streamId = buf.readUInt32BE(1);
  if (streamId === 0) throw protocolError('stream id 0 is reserved');
  const payload = buf.subarray(FRAME_HEADER_LENGTH);
  switch (type) {
    case FrameType.DATA:
      if (payload.length > MAX_DATA_PAYLOAD) throw protocolError(`DATA frame of ${payload.length} bytes exceeds ${MAX_DATA_PAYLOAD}`);
      break;
    case FrameType.WINDOW: {
      if (payload.length !== WINDOW_PAYLOAD_LENGTH) throw protocolError('WINDOW frame payload must be 4 bytes');
      const increment = payload.readUInt32BE(0);
      if (increment === 0 || increment > MAX_WINDOW_INCREMENT) throw protocolError(`invalid WINDOW increment ${increment}`);
      break;
    }
    case FrameType.FIN:
      if (payload.length !== 0) throw protocolError('FIN frame must be empty');
      break;
    case FrameType.OPEN:
    case FrameType.RST:
      if (payload.length > MAX_JSON_PAYLOAD) throw protocolError(`frame payload of ${payload.length} bytes is too large`);
      break;
    default:
      throw protocolError(`unknown frame type ${type}`);
  }
  return { type, streamId, payload };
}

/** The stream id of a frame buffer, or undefined when it is too short to have one. */
export function streamIdOf(buf: Buffer): number | undefined {
  return buf.length < FRAME_HEADER_LENGTH ? undefined : buf.readUInt32BE(1);
}

/** Rewrites the stream id of an encoded frame in place (the relay forwards frames this way). */
export function rewriteStreamId(frame: Buffer, streamId: number): Buffer {
  frame.writeUInt32BE(streamId, 1);
  return frame;
}

export function windowIncrement(payload: Buffer): number {
  return payload.readUInt32BE(0);
}

/** Parses an RST payload; a malformed one still yields a usable reason. */
export function parseReset(payload: Buffer): { code: string; message: string } {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof value === 'object' && value !== null) {
      const { code, message } = value as Record<string, unknown>;
      if (typeof code === 'string' && typeof message === 'string') return { code, message };
    }
  } catch {
    // fall through
  }
  return { code: ErrorCodes.TUNNEL_CLOSED, message: 'stream reset by peer' };
}

function protocolError(message: string): GatehouseError {
  return new GatehouseError(ErrorCodes.PROTOCOL, `tunnel: ${message}`);
}
