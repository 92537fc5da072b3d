import { describe, expect, it } from 'vitest';
import { createCommandComplete } from './backend/command-complete.ts';
import { createErrorResponse } from './backend/error-response.ts';
import { createReadyForQuery } from './backend/ready-for-query.ts';
import { MessageFramer } from './framing.ts';
import { InjectingForwarder } from './injecting-forwarder.ts';
import { MessageWalker } from './message-walker.ts';

const a = createCommandComplete('SELECT 1');
const b = createReadyForQuery('I');
const notice = createErrorResponse({ severity: 'WARNING', code: '01000', message: 'expires soon' });
const fatal = createErrorResponse({ severity: 'FATAL', code: '57P01', message: 'session ended' });

function forwarder(): { f: InjectingForwarder; out: Buffer[] } {
  const out: Buffer[] = [];
  return { f: new InjectingForwarder(new MessageWalker(), (buf) => out.push(buf)), out };
}

describe('issue 8 item 5: one splice-with-injection for both ends (InjectingForwarder)', () => {
  it('injects a notice between two whole server messages, for every cut point, and keeps forwarding', () => {
    const stream = Buffer.concat([a, b]);
    for (let cut = 1; cut < stream.length; cut++) {
      const { f, out } = forwarder();
      f.push(stream.subarray(0, cut));
      f.atNextBoundary(() => {
        out.push(notice);
        return 'continue';
      });
      f.push(stream.subarray(cut));
      const codes = new MessageFramer().push(Buffer.concat(out)).map((m) => String.fromCharCode(m.code));
      // the notice lands after the message the cut was in, never inside it
      expect(codes).toEqual(cut <= a.length ? ['C', 'E', 'Z'] : ['C', 'Z', 'E']);
    }
  });

  it('a final error stops the forwarding at the boundary: nothing of the next message reaches the client', () => {
    const { f, out } = forwarder();
    f.push(a.subarray(0, 3));
    f.atNextBoundary(() => {
      out.push(fatal);
      return 'stop';
    });
    expect(f.isStopped).toBe(false);
    f.push(Buffer.concat([a.subarray(3), b]));
    expect(f.isStopped).toBe(true);
    f.push(b);
    expect(new MessageFramer().push(Buffer.concat(out)).map((m) => String.fromCharCode(m.code))).toEqual(['C', 'E']);
  });

  it('runs an injection at once when the bytes so far end at a boundary, and on runNow() when the server is gone', () => {
    const { f, out } = forwarder();
    f.push(a);
    let ran = 0;
    f.atNextBoundary(() => {
      ran += 1;
      return 'continue';
    });
    expect(ran).toBe(1);
    f.push(b.subarray(0, 2));
    f.atNextBoundary(() => {
      ran += 1;
      return 'stop';
    });
    expect(ran).toBe(1);
    f.runNow();
    expect(ran).toBe(2);
    expect(Buffer.concat(out)).toEqual(Buffer.concat([a, b.subarray(0, 2)]));
  });
});
