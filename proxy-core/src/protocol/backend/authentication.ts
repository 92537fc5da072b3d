/**
 * Authentication requests ('R' + Int32 subtype).
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONOK
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { AuthCode, BackendCode } from '../constants.ts';

export type AuthenticationRequest =
  | { type: 'ok' }
  | { type: 'cleartext' }
  | { type: 'md5'; salt: Buffer }
  | { type: 'sasl'; mechanisms: string[] }
  | { type: 'sasl-continue'; data: Buffer }
  | { type: 'sasl-final'; data: Buffer }
  | { type: 'other'; authCode: number; name: string };

const OTHER_NAMES: Record<number, string> = {
  [AuthCode.KerberosV5]: 'Kerberos V5',
  [AuthCode.GSS]: 'GSSAPI',
  [AuthCode.GSSContinue]: 'GSSAPI',
  [AuthCode.SSPI]: 'SSPI',
};

export function createAuthenticationOk(): Buffer {
  return new BufferWriter().int32(AuthCode.Ok).typed(BackendCode.Authentication);
}

export function createAuthenticationCleartextPassword(): Buffer {
  return new BufferWriter().int32(AuthCode.CleartextPassword).typed(BackendCode.Authentication);
}

export function createAuthenticationMD5Password(salt: Buffer): Buffer {
  return new BufferWriter().int32(AuthCode.MD5Password).bytes(salt.subarray(0, 4)).typed(BackendCode.Authentication);
}

export function createAuthenticationSASL(mechanisms: string[]): Buffer {
  const w = new BufferWriter().int32(AuthCode.SASL);
  for (const m of mechanisms) w.cstring(m);
  return w.int8(0).typed(BackendCode.Authentication);
}

export function createAuthenticationSASLContinue(data: Buffer): Buffer {
  return new BufferWriter().int32(AuthCode.SASLContinue).bytes(data).typed(BackendCode.Authentication);
}

export function createAuthenticationSASLFinal(data: Buffer): Buffer {
  return new BufferWriter().int32(AuthCode.SASLFinal).bytes(data).typed(BackendCode.Authentication);
}

export function parseAuthentication(payload: Buffer): AuthenticationRequest {
  const r = new BufferReader(payload, 'Authentication request');
  const authCode = r.int32();
  switch (authCode) {
    case AuthCode.Ok:
      r.end();
      return { type: 'ok' };
    case AuthCode.CleartextPassword:
      r.end();
      return { type: 'cleartext' };
    case AuthCode.MD5Password: {
      const salt = Buffer.from(r.bytes(4));
      r.end();
      return { type: 'md5', salt };
    }
    case AuthCode.SASL: {
      const mechanisms: string[] = [];
      for (;;) {
        const m = r.cstring();
        if (m === '') break;
        mechanisms.push(m);
      }
      r.end();
      return { type: 'sasl', mechanisms };
    }
    case AuthCode.SASLContinue:
      return { type: 'sasl-continue', data: Buffer.from(r.rest()) };
    case AuthCode.SASLFinal:
      return { type: 'sasl-final', data: Buffer.from(r.rest()) };
    default:
      return { type: 'other', authCode, name: OTHER_NAMES[authCode] ?? `unknown method ${authCode}` };
  }
}
