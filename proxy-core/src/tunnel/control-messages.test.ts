import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors.ts';
import { encodeControlMessage, MAX_EVENTS_PER_BATCH, parseControlMessage, type ControlMessage } from './control-messages.ts';
import { parseClientOpenMeta } from './meta.ts';
import { SESSION_END, SESSION_END_REASONS, sessionEndReasonOf } from './session-end.ts';

const event = (seq: number) => ({ seq, sessionId: 's-1', connectionId: 'c-1', at: '2026-01-01T00:00:00.000Z', type: 'statement', sql: 'select 1' });

describe('issue 8 item 2: tunnel control messages, one parser', () => {
  it('parses every message type as sent, from the object a Mux emits or from the text', () => {
    const messages: ControlMessage[] = [
      { type: 'events', events: [event(1), event(2)] as never },
      { type: 'ack', seq: 2 },
      { type: 'session-ended', sessionId: 's-1', reason: 'revoked' },
      { type: 'session-ended', reason: 'expired' },
      { type: 'gateway-status', connected: false },
      { type: 'replicas', self: 'r-1', replicas: [{ id: 'r-1', url: 'https://cp-1.example:8443' }] },
    ];
    for (const message of messages) {
      expect(parseControlMessage(message)).toEqual({ ok: true, message });
      expect(parseControlMessage(encodeControlMessage(message))).toEqual({ ok: true, message });
    }
  });

  it('keeps each event as the recorder wrote it (fields beyond the envelope included)', () => {
    const parsed = parseControlMessage({ type: 'events', events: [event(7)] });
    expect(parsed.ok && parsed.message.type === 'events' && parsed.message.events[0]).toMatchObject({ seq: 7, sql: 'select 1' });
  });

  it('rejects an unknown type, a missing type and text that is not JSON, saying which', () => {
    expect(parseControlMessage({ type: 'reboot' })).toMatchObject({ ok: false, problem: 'unknown-type', type: 'reboot' });
    expect(parseControlMessage({ seq: 1 })).toMatchObject({ ok: false, problem: 'unknown-type' });
    expect(parseControlMessage(null)).toMatchObject({ ok: false, problem: 'unknown-type' });
    expect(parseControlMessage('{"type":')).toMatchObject({ ok: false, problem: 'not-json' });
  });

  it.each([
    ['an ack without a seq', { type: 'ack' }],
    ['an ack with a fractional seq', { type: 'ack', seq: 1.5 }],
    ['an ack with a negative seq', { type: 'ack', seq: -1 }],
    ['gateway-status without a boolean', { type: 'gateway-status', connected: 'yes' }],
    ['session-ended with an empty sessionId', { type: 'session-ended', sessionId: '', reason: 'ended' }],
    ['session-ended with a numeric sessionId', { type: 'session-ended', sessionId: 42, reason: 'ended' }],
    ['an empty events batch', { type: 'events', events: [] }],
    ['events that are not an array', { type: 'events', events: { seq: 1 } }],
    ['an event without its session', { type: 'events', events: [{ seq: 1, connectionId: 'c', at: 'x', type: 'connect' }] }],
    ['an event with seq 0', { type: 'events', events: [event(0)] }],
    ['an event seq beyond 2^53', { type: 'events', events: [event(2 ** 53)] }],
    ['events whose seqs do not increase', { type: 'events', events: [event(2), event(2)] }],
    ['more events than a batch may hold', { type: 'events', events: Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, (_, i) => event(i + 1)) }],
    ['replicas with a URL that is not one', { type: 'replicas', self: 'r', replicas: [{ id: 'r', url: 'not a url' }] }],
    ['replicas without self', { type: 'replicas', replicas: [] }],
  ])('rejects %s as malformed', (_what, message) => {
    const parsed = parseControlMessage(message);
    expect(parsed).toMatchObject({ ok: false, problem: 'malformed', type: message.type });
  });

  it('a session-ended whose reason this side does not know still ends the session (fail closed)', () => {
    expect(parseControlMessage({ type: 'session-ended', sessionId: 's-1', reason: 'maintenance' })).toEqual({
      ok: true,
      message: { type: 'session-ended', sessionId: 's-1', reason: 'ended' },
    });
  });
});

describe('issue 8 item 2: one SessionEndReason', () => {
  it('each reason has its stable code, SQLSTATE 57P01 and its words; codes map back to reasons', () => {
    expect(SESSION_END_REASONS).toEqual(['expired', 'revoked', 'ended']);
    expect(SESSION_END.revoked).toEqual({
      code: ErrorCodes.SESSION_REVOKED,
      sqlstate: '57P01',
      refusal: 'the access session has been revoked',
      termination: 'terminating connection: the access session was revoked by an administrator',
    });
    for (const reason of SESSION_END_REASONS) {
      expect(SESSION_END[reason].sqlstate).toBe('57P01');
      expect(sessionEndReasonOf(SESSION_END[reason].code)).toBe(reason);
    }
    expect(sessionEndReasonOf(ErrorCodes.NOT_FOUND)).toBeUndefined();
  });
});

describe('issue 8 item 2: a client OPEN frame has one parser (tunnel/meta.ts)', () => {
  const open = (meta: unknown) => parseClientOpenMeta(Buffer.from(JSON.stringify(meta)));
  it('keeps what a client may say and drops the rest', () => {
    expect(open({ kind: 'pg', clientAddress: '127.0.0.1:5000', clientPid: 42, clientProcess: 'psql', target: { host: 'evil' } })).toEqual({
      kind: 'pg',
      clientAddress: '127.0.0.1:5000',
      clientPid: 42,
      clientProcess: 'psql',
    });
    expect(open({ kind: 'cancel' })).toEqual({ kind: 'cancel' });
  });
  it.each([
    ['an unknown kind', { kind: 'replication' }],
    ['a field over 256 characters', { kind: 'pg', applicationName: 'x'.repeat(257) }],
    ['a pid that is not a positive integer', { kind: 'pg', clientPid: -1 }],
    ['a non-string field', { kind: 'pg', clientUser: 7 }],
    ['an array', [{ kind: 'pg' }]],
  ])('refuses %s', (_what, meta) => {
    expect(open(meta)).toBeUndefined();
  });
  it('refuses a payload over 4 KiB and one that is not JSON', () => {
    expect(parseClientOpenMeta(Buffer.from(JSON.stringify({ kind: 'pg', pad: 'x'.repeat(5000) })))).toBeUndefined();
    expect(parseClientOpenMeta(Buffer.from('{kind'))).toBeUndefined();
  });
});
