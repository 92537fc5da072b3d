import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../errors.ts';
import { MessageFramer, type Message } from './framing.ts';
import { createQuery } from './frontend/query.ts';
import { createErrorResponse } from './backend/error-response.ts';
import { createReadyForQuery } from './backend/ready-for-query.ts';
import { createTerminate } from './frontend/terminate.ts';

const stream = Buffer.concat([
  createQuery('select 1'),
  createErrorResponse({ severity: 'ERROR', code: '42P01', message: 'relation "x" does not exist' }),
  createTerminate(),
  createReadyForQuery('T'),
  createQuery('x'.repeat(5000)),
]);
const expected = [0x51, 0x45, 0x58, 0x5a, 0x51];

function collect(chunks: Buffer[], framer = new MessageFramer()): Message[] {
  const out: Message[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  return out;
}

function check(msgs: Message[]): void {
  expect(msgs.map((m) => m.code)).toEqual(expected);
  expect(Buffer.concat(msgs.map((m) => m.raw))).toEqual(stream);
}

describe('MessageFramer', () => {
  it('returns whole messages from one chunk as views (no copy)', () => {
    const msgs = collect([stream]);
    check(msgs);
    expect(msgs[0].raw.buffer).toBe(stream.buffer);
  });

  it.each([1, 3, 5, 6, 20, stream.length - 1])('same bytes cut at %i', (cut) => {
    check(collect([stream.subarray(0, cut), stream.subarray(cut)]));
  });

  it('same bytes cut at the front, the middle and the end in three pieces', () => {
    const a = 2;
    const b = Math.floor(stream.length / 2);
    const c = stream.length - 2;
    check(collect([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b, c), stream.subarray(c)]));
  });

  it('byte by byte', () => {
    const chunks = [...stream].map((b) => Buffer.from([b]));
    const framer = new MessageFramer();
    const msgs = collect(chunks, framer);
    check(msgs);
    expect(framer.pendingBytes).toBe(0);
  });

  it('does not change messages already returned when more bytes arrive', () => {
    const framer = new MessageFramer();
    const first = framer.push(stream.subarray(0, 30));
    const snapshot = Buffer.from(first[0].raw);
    framer.push(stream.subarray(30));
    expect(first[0].raw).toEqual(snapshot);
  });

  it('caps the message length with MESSAGE_TOO_LARGE, before buffering the body', () => {
    const framer = new MessageFramer({ maxMessageLength: 1024 });
    const header = Buffer.from([0x51, 0, 0, 0x10, 0]); // 4096-byte length
    expect(() => framer.push(header)).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_MESSAGE_TOO_LARGE' }));
    expect(() => framer.push(Buffer.from([0]))).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_MESSAGE_TOO_LARGE' }));
    expect(framer.pendingBytes).toBe(0);
  });

  it('rejects a length under 4 with PROTOCOL', () => {
    expect(() => new MessageFramer().push(Buffer.from([0x51, 0, 0, 0, 3]))).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_PROTOCOL' }));
    expect(() => new MessageFramer().push(Buffer.from([0x51, 0xff, 0xff, 0xff, 0xff]))).toThrow(GatehouseError);
  });

  it('fuzz: random and truncated input only ever throws GatehouseError and never hangs', () => {
    const started = Date.now();
    for (let i = 0; i < 2000; i++) {
      const framer = new MessageFramer({ maxMessageLength: 4096 });
      const input = i % 2 ? randomBytes(1 + (i % 300)) : stream.subarray(0, i % stream.length);
      try {
        for (let off = 0; off < input.length; off += 1 + (i % 17)) framer.push(input.subarray(off, off + 1 + (i % 17)));
      } catch (err) {
        expect(err).toBeInstanceOf(GatehouseError);
      }
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
