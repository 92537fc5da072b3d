import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors.ts';
import {
  FRAME_HEADER_LENGTH,
  FrameType,
  MAX_DATA_PAYLOAD,
  decodeFrame,
  encodeFrame,
  encodeReset,
  encodeWindow,
  parseReset,
  rewriteStreamId,
  streamIdOf,
  windowIncrement,
} from './frames.ts';

describe('tunnel frames', () => {
  it('round-trips every frame type', () => {
    const data = decodeFrame(encodeFrame(FrameType.DATA, 7, Buffer.from('hello')));
    expect(data).toMatchObject({ type: FrameType.DATA, streamId: 7 });
    expect(data.payload.toString()).toBe('hello');
    const open = decodeFrame(encodeFrame(FrameType.OPEN, 0xffff_ffff, JSON.stringify({ kind: 'pg' })));
    expect(open.streamId).toBe(0xffff_ffff);
    expect(JSON.parse(open.payload.toString())).toEqual({ kind: 'pg' });
    expect(windowIncrement(decodeFrame(encodeWindow(3, 65536)).payload)).toBe(65536);
    expect(decodeFrame(encodeFrame(FrameType.FIN, 3)).payload.length).toBe(0);
    expect(parseReset(decodeFrame(encodeReset(3, ErrorCodes.SESSION_EXPIRED, 'expired')).payload)).toEqual({
      code: ErrorCodes.SESSION_EXPIRED,
      message: 'expired',
    });
  });

  it('encodes header and payload in one buffer and decodes the payload as a view', () => {
    const frame = encodeFrame(FrameType.DATA, 1, Buffer.alloc(10, 9));
    expect(frame.length).toBe(FRAME_HEADER_LENGTH + 10);
    const { payload } = decodeFrame(frame);
    expect(payload.buffer).toBe(frame.buffer);
  });

  it('rewrites the stream id in place', () => {
    const frame = encodeFrame(FrameType.DATA, 1, Buffer.from('x'));
    expect(rewriteStreamId(frame, 42)).toBe(frame);
    expect(decodeFrame(frame).streamId).toBe(42);
    expect(streamIdOf(frame)).toBe(42);
    expect(streamIdOf(Buffer.alloc(3))).toBeUndefined();
  });

  it.each([
    ['a truncated header', Buffer.from([2, 0, 0])],
    ['an empty message', Buffer.alloc(0)],
    ['an unknown type', encodeFrame(9 as never, 1, Buffer.from('x'))],
    ['type 0', encodeFrame(0 as never, 1)],
    ['stream id 0', encodeFrame(FrameType.DATA, 0, Buffer.from('x'))],
    ['oversized DATA', encodeFrame(FrameType.DATA, 1, Buffer.alloc(MAX_DATA_PAYLOAD + 1))],
    ['a short WINDOW', encodeFrame(FrameType.WINDOW, 1, Buffer.from([0, 1]))],
    ['a zero WINDOW', encodeWindow(1, 0)],
    ['a FIN with payload', encodeFrame(FrameType.FIN, 1, Buffer.from('x'))],
  ])('rejects %s with PROTOCOL', (_name, buf) => {
    expect(() => decodeFrame(buf)).toThrow(expect.objectContaining({ code: ErrorCodes.PROTOCOL }));
  });

  it('gives a usable reason for a malformed RST payload', () => {
    expect(parseReset(Buffer.from('not json'))).toEqual({ code: ErrorCodes.TUNNEL_CLOSED, message: 'stream reset by peer' });
  });
});
