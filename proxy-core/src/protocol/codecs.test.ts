import { describe, expect, it } from 'vitest';
import { MessageFramer, type Message } from './framing.ts';
import { BackendCode, FrontendCode, PROTOCOL_3_2 } from './constants.ts';
import { createErrorResponse, createNoticeResponse, parseErrorFields } from './backend/error-response.ts';
import {
  createAuthenticationCleartextPassword,
  createAuthenticationMD5Password,
  createAuthenticationOk,
  createAuthenticationSASL,
  createAuthenticationSASLContinue,
  createAuthenticationSASLFinal,
  parseAuthentication,
} from './backend/authentication.ts';
import { createParameterStatus, parseParameterStatus } from './backend/parameter-status.ts';
import { createBackendKeyData, parseBackendKeyData } from './backend/backend-key-data.ts';
import { createReadyForQuery, parseReadyForQuery } from './backend/ready-for-query.ts';
import { createNegotiateProtocolVersion, parseNegotiateProtocolVersion } from './backend/negotiate-protocol-version.ts';
import { createCommandComplete, parseCommandComplete } from './backend/command-complete.ts';
import { createQuery, parseQuery } from './frontend/query.ts';
import { createParse, parseParse } from './frontend/parse.ts';
import { bindParamsForDisplay, createBind, parseBind } from './frontend/bind.ts';
import { createPasswordMessage, parsePasswordMessage } from './frontend/password-message.ts';
import { createSASLInitialResponse, parseSASLInitialResponse } from './frontend/sasl-initial-response.ts';
import { createSASLResponse, parseSASLResponse } from './frontend/sasl-response.ts';
import { createTerminate, isTerminate } from './frontend/terminate.ts';

function one(bytes: Buffer): Message {
  const msgs = new MessageFramer().push(bytes);
  expect(msgs).toHaveLength(1);
  return msgs[0];
}

describe('backend codecs round-trip', () => {
  it('ErrorResponse and NoticeResponse carry S, V, C, M, D, H', () => {
    const input = { severity: 'FATAL', code: '28P01', message: 'password authentication failed', detail: 'd', hint: 'h' } as const;
    const m = one(createErrorResponse(input));
    expect(m.code).toBe(BackendCode.ErrorResponse);
    const f = parseErrorFields(m.payload);
    expect(f).toMatchObject({ severity: 'FATAL', severityNonLocalized: 'FATAL', code: '28P01', message: input.message, detail: 'd', hint: 'h' });
    const n = one(createNoticeResponse({ severity: 'WARNING', code: '01000', message: 'ünïcode ✓' }));
    expect(n.code).toBe(BackendCode.NoticeResponse);
    expect(parseErrorFields(n.payload).message).toBe('ünïcode ✓');
  });

  it('Authentication requests', () => {
    const parse = (b: Buffer) => parseAuthentication(one(b).payload);
    expect(parse(createAuthenticationOk())).toEqual({ type: 'ok' });
    expect(parse(createAuthenticationCleartextPassword())).toEqual({ type: 'cleartext' });
    expect(parse(createAuthenticationMD5Password(Buffer.from([1, 2, 3, 4])))).toEqual({ type: 'md5', salt: Buffer.from([1, 2, 3, 4]) });
    expect(parse(createAuthenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']))).toEqual({
      type: 'sasl',
      mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
    });
    expect(parse(createAuthenticationSASLContinue(Buffer.from('r=abc')))).toEqual({ type: 'sasl-continue', data: Buffer.from('r=abc') });
    expect(parse(createAuthenticationSASLFinal(Buffer.from('v=xyz')))).toEqual({ type: 'sasl-final', data: Buffer.from('v=xyz') });
    const gss = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 7]);
    expect(parse(gss)).toMatchObject({ type: 'other', authCode: 7, name: 'GSSAPI' });
  });

  it('ParameterStatus, BackendKeyData (4 and 256-byte keys), ReadyForQuery', () => {
    expect(parseParameterStatus(one(createParameterStatus('server_version', '18.0')).payload)).toEqual({ name: 'server_version', value: '18.0' });
    for (const len of [4, 32, 256]) {
      const key = { processId: 4242, secretKey: Buffer.alloc(len, 7) };
      expect(parseBackendKeyData(one(createBackendKeyData(key)).payload)).toEqual(key);
    }
    expect(() => parseBackendKeyData(one(createBackendKeyData({ processId: 1, secretKey: Buffer.alloc(257) })).payload)).toThrow(/cancel key/);
    for (const s of ['I', 'T', 'E'] as const) expect(parseReadyForQuery(one(createReadyForQuery(s)).payload)).toBe(s);
    expect(createReadyForQuery('I')).toEqual(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]));
  });

  it('NegotiateProtocolVersion and CommandComplete', () => {
    const v = { newestVersion: PROTOCOL_3_2, unrecognizedOptions: ['_pq_.foo'] };
    expect(parseNegotiateProtocolVersion(one(createNegotiateProtocolVersion(v)).payload)).toEqual(v);
    expect(parseCommandComplete(one(createCommandComplete('INSERT 0 5')).payload)).toEqual({ tag: 'INSERT 0 5', rows: 5 });
    expect(parseCommandComplete(one(createCommandComplete('CREATE TABLE')).payload)).toEqual({ tag: 'CREATE TABLE' });
  });
});

describe('frontend codecs round-trip', () => {
  it('Query and Parse', () => {
    const q = one(createQuery('select 1'));
    expect(q.code).toBe(FrontendCode.Query);
    expect(parseQuery(q.payload)).toEqual({ sql: 'select 1' });
    const p = { statement: 's1', sql: 'select $1::int', paramTypes: [23, 0xffffffff] };
    expect(parseParse(one(createParse(p)).payload)).toEqual(p);
  });

  it('Bind with text, binary and NULL parameters', () => {
    const bin = Buffer.from([0, 0, 0, 42]);
    const b = parseBind(one(createBind({ portal: 'p', statement: 's', params: ['hello', bin, null], resultFormats: [1] })).payload);
    expect(b.portal).toBe('p');
    expect(b.statement).toBe('s');
    expect(b.paramFormats).toEqual([0, 1, 0]);
    expect(b.params).toEqual([Buffer.from('hello'), bin, null]);
    expect(b.resultFormats).toEqual([1]);
    expect(bindParamsForDisplay(b)).toEqual(['hello', bin.toString('base64'), null]);
  });

  it('PasswordMessage, SASLInitialResponse, SASLResponse, Terminate', () => {
    expect(parsePasswordMessage(one(createPasswordMessage('md5abc')).payload)).toEqual({ password: 'md5abc' });
    const init = parseSASLInitialResponse(one(createSASLInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=*,r=x'))).payload);
    expect(init).toEqual({ mechanism: 'SCRAM-SHA-256', data: Buffer.from('n,,n=*,r=x') });
    expect(parseSASLResponse(one(createSASLResponse(Buffer.from('c=biws'))).payload)).toEqual({ data: Buffer.from('c=biws') });
    const t = one(createTerminate());
    expect(isTerminate(t.code)).toBe(true);
    expect(t.raw).toEqual(Buffer.from([0x58, 0, 0, 0, 4]));
  });

  it('truncated payloads fail with a PROTOCOL GatehouseError, not a RangeError', () => {
    const m = one(createBind({ params: ['abc'] }));
    for (let cut = 0; cut < m.payload.length; cut++) {
      expect(() => parseBind(m.payload.subarray(0, cut))).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_PROTOCOL' }));
    }
  });
});
