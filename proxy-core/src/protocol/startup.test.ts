import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../errors.ts';
import {
  createCancelRequest,
  createGSSENCRequest,
  createSSLRequest,
  createStartupMessage,
  parseStartupPacket,
  readStartupPacket,
  truncateName,
} from './startup.ts';
import { PROTOCOL_3_0, PROTOCOL_3_2 } from './constants.ts';

describe('startup packets', () => {
  it('SSLRequest and GSSENCRequest', () => {
    expect(createSSLRequest()).toEqual(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
    expect(parseStartupPacket(createSSLRequest())).toEqual({ kind: 'ssl' });
    expect(parseStartupPacket(createGSSENCRequest())).toEqual({ kind: 'gssenc' });
  });

  it('CancelRequest with a 4-byte key (3.0) and a 256-byte key (3.2)', () => {
    for (const len of [4, 256]) {
      const key = randomBytes(len);
      expect(parseStartupPacket(createCancelRequest(1234, key))).toEqual({ kind: 'cancel', processId: 1234, secretKey: key });
    }
    expect(() => createCancelRequest(1, Buffer.alloc(257))).toThrow(GatehouseError);
  });

  it('StartupMessage 3.0 and 3.2 with _pq_ protocol options', () => {
    const params = { user: 'alice', database: 'shop', application_name: 'psql', options: '-c search_path=x' };
    expect(parseStartupPacket(createStartupMessage(PROTOCOL_3_0, params))).toEqual({
      kind: 'startup',
      protocolVersion: PROTOCOL_3_0,
      parameters: params,
      protocolOptions: {},
    });
    const p32 = parseStartupPacket(createStartupMessage(PROTOCOL_3_2, { user: 'a' }, { '_pq_.test_protocol_negotiation': '' }));
    expect(p32).toEqual({
      kind: 'startup',
      protocolVersion: PROTOCOL_3_2,
      parameters: { user: 'a' },
      protocolOptions: { '_pq_.test_protocol_negotiation': '' },
    });
  });

  it('issue 16 item 3: over-long user, database and application_name are cut to 63 bytes like PostgreSQL, not refused', () => {
    const long = 'a'.repeat(300);
    const parsed = parseStartupPacket(createStartupMessage(PROTOCOL_3_0, { user: long, database: long, application_name: long, options: long }));
    if (parsed.kind !== 'startup') throw new Error('not a startup packet');
    expect(parsed.parameters).toEqual({ user: 'a'.repeat(63), database: 'a'.repeat(63), application_name: 'a'.repeat(63), options: long });
    // 62 ASCII bytes then a 2-byte character: it does not fit whole, so the name ends before it
    expect(truncateName(`${'b'.repeat(62)}é`)).toBe('b'.repeat(62));
    expect(truncateName(`${'b'.repeat(61)}é`)).toBe(`${'b'.repeat(61)}é`);
    expect(Buffer.byteLength(truncateName('€'.repeat(100)))).toBe(63);
    expect(truncateName('psql')).toBe('psql');
  });

  it('readStartupPacket waits for the whole packet and returns the rest', () => {
    const pkt = Buffer.concat([createSSLRequest(), Buffer.from([0x16, 3, 1])]);
    for (let cut = 0; cut < 8; cut++) expect(readStartupPacket(pkt.subarray(0, cut))).toBeUndefined();
    const r = readStartupPacket(pkt);
    expect(r?.packet).toEqual(createSSLRequest());
    expect(r?.rest).toEqual(Buffer.from([0x16, 3, 1]));
  });

  it('refuses packets over 10,000 bytes as soon as the length is known', () => {
    const head = Buffer.alloc(4);
    head.writeInt32BE(10_001);
    expect(() => readStartupPacket(head)).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_PROTOCOL' }));
    expect(() => createStartupMessage(PROTOCOL_3_0, { options: 'x'.repeat(10_000) })).toThrow(GatehouseError);
  });

  it('refuses protocol 2.0 and unterminated parameters', () => {
    const v2 = Buffer.from([0, 0, 0, 9, 0, 2, 0, 0, 0]);
    expect(() => parseStartupPacket(v2)).toThrow(/unsupported frontend protocol 2\.0/);
    const bad = createStartupMessage(PROTOCOL_3_0, { user: 'a' }).subarray(0, 12);
    bad.writeInt32BE(12, 0);
    expect(() => parseStartupPacket(bad)).toThrow(GatehouseError);
  });

  it('fuzz: random packets only throw GatehouseError', () => {
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(8 + (i % 64));
      if (i % 3 === 0) b.writeInt32BE(b.length, 0);
      if (i % 6 === 0) b.writeInt32BE(PROTOCOL_3_0, 4);
      try {
        const r = readStartupPacket(b);
        if (r) parseStartupPacket(r.packet);
      } catch (err) {
        expect(err).toBeInstanceOf(GatehouseError);
      }
    }
  });
});
