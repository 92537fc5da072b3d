/**
 * ErrorResponse ('E') and NoticeResponse ('N'): a list of `[type byte][cstring]` fields
 * ending with a zero byte.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ERRORRESPONSE
 * @see https://www.postgresql.org/docs/current/protocol-error-fields.html
 */
import { BufferReader } from '../buffer-reader.ts';
import { BufferWriter } from '../buffer-writer.ts';
import { BackendCode, ErrorField } from '../constants.ts';

export type ErrorSeverity = 'ERROR' | 'FATAL' | 'PANIC';
export type NoticeSeverity = 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';

export interface ErrorFieldsInput {
  severity: ErrorSeverity | NoticeSeverity;
  /** SQLSTATE, five characters. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

export interface ErrorFields {
  /** Localized severity (S). */
  severity: string;
  /** Non-localized severity (V), when the server sent it. */
  severityNonLocalized?: string;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  /** Every field by its type letter ('S', 'C', 'M', 'D', 'H', 'P', 'W', …). */
  fields: Record<string, string>;
}

export function createErrorResponse(input: ErrorFieldsInput): Buffer {
  return encodeFields(BackendCode.ErrorResponse, input);
}

export function createNoticeResponse(input: ErrorFieldsInput): Buffer {
  return encodeFields(BackendCode.NoticeResponse, input);
}

/** Parses the payload of an ErrorResponse or NoticeResponse. */
export function parseErrorFields(payload: Buffer): ErrorFields {
  const r = new BufferReader(payload, 'ErrorResponse');
  const fields: Record<string, string> = {};
  for (;;) {
    const type = r.int8();
    if (type === 0) break;
    fields[String.fromCharCode(type)] = r.cstring();
  }
  r.end();
  const out: ErrorFields = {
    severity: fields.S ?? fields.V ?? 'ERROR',
    code: fields.C ?? '',
    message: fields.M ?? '',
    fields,
  };
  if (fields.V !== undefined) out.severityNonLocalized = fields.V;
  if (fields.D !== undefined) out.detail = fields.D;
  if (fields.H !== undefined) out.hint = fields.H;
  return out;
}

function encodeFields(code: number, input: ErrorFieldsInput): Buffer {
  const w = new BufferWriter()
    .int8(ErrorField.Severity)
    .cstring(input.severity)
    .int8(ErrorField.SeverityNonLocalized)
    .cstring(input.severity)
    .int8(ErrorField.Code)
    .cstring(input.code)
    .int8(ErrorField.Message)
    .cstring(input.message);
  if (input.detail !== undefined) w.int8(ErrorField.Detail).cstring(input.detail);
  if (input.hint !== undefined) w.int8(ErrorField.Hint).cstring(input.hint);
  return w.int8(0).typed(code);
}
