import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MessageWalker } from './message-walker.ts';
import { MessageFramer } from './framing.ts';
import { createCommandComplete } from './backend/command-complete.ts';
import { createReadyForQuery } from './backend/ready-for-query.ts';
import { createErrorResponse } from './backend/error-response.ts';
import { GatehouseError } from '../errors.ts';

const a = createCommandComplete('SELECT 1');
const b = createReadyForQuery('I');
const injected = createErrorResponse({ severity: 'FATAL', code: '57P01', message: 'session ended' });

describe('MessageWalker: message boundaries (where a notice or an error may be injected)', () => {
  it('knows when the stream sits between two messages', () => {
    const t = new MessageWalker();
    expect(t.atBoundary).toBe(true);
    t.push(a.subarray(0, 3));
    expect(t.atBoundary).toBe(false);
    t.push(a.subarray(3));
    expect(t.atBoundary).toBe(true);
  });

  it('splits a chunk at the end of the message in progress, for every cut point', () => {
    const stream = Buffer.concat([a, b]);
    for (let cut = 1; cut < a.length; cut++) {
      const t = new MessageWalker();
      t.push(stream.subarray(0, cut));
      const [head, tail] = t.splitAtBoundary(stream.subarray(cut));
      expect(t.atBoundary).toBe(true);
      // inject between a and b: a client framer sees a, the error, and nothing torn
      const seen = new MessageFramer().push(Buffer.concat([stream.subarray(0, cut), head, injected]));
      expect(seen.map((m) => m.code)).toEqual([0x43, 0x45]);
      expect(tail).toEqual(b);
    }
  });

  it('byte by byte: the head is empty at a boundary and the chunk when still inside a message', () => {
    const t = new MessageWalker();
    const [h0] = t.splitAtBoundary(a);
    expect(h0.length).toBe(0);
    for (let i = 0; i < a.length; i++) {
      t.push(a.subarray(i, i + 1));
      expect(t.atBoundary).toBe(i === a.length - 1);
    }
  });

  it('does not copy: head and tail are views of the chunk', () => {
    const t = new MessageWalker();
    t.push(a.subarray(0, 2));
    const chunk = Buffer.concat([a.subarray(2), b]);
    const [head, tail] = t.splitAtBoundary(chunk);
    expect(head.buffer).toBe(chunk.buffer);
    expect(tail.buffer).toBe(chunk.buffer);
  });

  it('fuzz: random bytes throw only GatehouseError', () => {
    for (let i = 0; i < 1000; i++) {
      try {
        new MessageWalker().push(randomBytes(1 + (i % 50)));
      } catch (err) {
        expect(err).toBeInstanceOf(GatehouseError);
      }
    }
  });
});
