/**
 * Decoders for the recorder's captured message prefixes. A capture may be cut at the
 * recording limit, so these read what is there and say when something was cut; whole
 * payloads go through the protocol codecs.
 */
import { bindParamsForDisplay, parseBind } from '../protocol/frontend/bind.ts';
import { parseCommandComplete } from '../protocol/backend/command-complete.ts';
import { parseErrorFields } from '../protocol/backend/error-response.ts';
import { SqlState } from '../protocol/sqlstate.ts';

/** Longest SQL text recorded per statement (bytes of UTF-8). */
export const MAX_SQL_BYTES = 64 * 1024;
/** Longest single bind parameter recorded (characters of its display form). */
export const MAX_PARAM_CHARS = 1024;
/** Largest Bind whose parameters are recorded (when not redacted). */
export const MAX_BIND_CAPTURE = 1024 * 1024;
/** Enough for portal and statement names. */
export const NAMES_CAPTURE = 1024;
export const ERROR_CAPTURE = 64 * 1024;

export interface SqlText {
  sql: string;
  truncated: boolean;
}

/** A NUL-terminated string starting at `off`; `end` is past the NUL (or the buffer end). */
function cstringAt(buf: Buffer, off: number, maxBytes = Number.POSITIVE_INFINITY): { text: string; end: number; cut: boolean } {
  let nul = buf.indexOf(0, off);
  const cut = nul < 0;
  if (cut) nul = buf.length;
  const stop = Math.min(nul, off + maxBytes);
  return { text: buf.toString('utf8', off, stop), end: nul + 1, cut: cut || stop < nul };
}

/** Query: the SQL. */
export function decodeQuery(payload: Buffer): SqlText {
  const s = cstringAt(payload, 0, MAX_SQL_BYTES);
  return { sql: s.text, truncated: s.cut };
}

/** Parse: statement name and SQL. */
export function decodeParse(payload: Buffer): { name: string } & SqlText {
  const name = cstringAt(payload, 0);
  const sql = cstringAt(payload, name.end, MAX_SQL_BYTES);
  return { name: name.text, sql: sql.text, truncated: sql.cut };
}

/** Portal and statement names of a Bind, Execute's portal, Close's target. */
export function decodeNames(payload: Buffer): [string, string] {
  const a = cstringAt(payload, 0);
  const b = cstringAt(payload, a.end);
  return [a.text, b.text];
}

export function decodeExecutePortal(payload: Buffer): string {
  return cstringAt(payload, 0).text;
}

/** Close: 'S' statement or 'P' portal, and its name. */
export function decodeClose(payload: Buffer): { kind: 'statement' | 'portal'; name: string } | undefined {
  if (payload.length < 1) return undefined;
  const kind = payload[0] === 0x53 ? 'statement' : payload[0] === 0x50 ? 'portal' : undefined;
  return kind ? { kind, name: cstringAt(payload, 1).text } : undefined;
}

/**
 * Bind parameters for the log: text as strings, binary as base64, each capped. `complete`
 * is false when the capture was cut (then no parameters are reported).
 */
export function decodeBindParams(payload: Buffer, complete: boolean): { params?: (string | null)[]; truncated: boolean } {
  if (!complete) return { truncated: true };
  const bind = parseBind(payload);
  let truncated = false;
  const params = bindParamsForDisplay(bind).map((p) => {
    if (p === null || p.length <= MAX_PARAM_CHARS) return p;
    truncated = true;
    return p.slice(0, MAX_PARAM_CHARS);
  });
  return { params, truncated };
}

/** FunctionCall: the function OID (arguments are not decoded). */
export function decodeFunctionOid(payload: Buffer): number | undefined {
  return payload.length >= 4 ? payload.readUInt32BE(0) : undefined;
}

export function decodeCommandComplete(payload: Buffer): { tag: string; rows?: number } {
  try {
    return parseCommandComplete(payload);
  } catch {
    return { tag: cstringAt(payload, 0).text };
  }
}

export function decodeError(payload: Buffer): { sqlstate: string; message: string } {
  try {
    const f = parseErrorFields(payload);
    return { sqlstate: f.code || SqlState.INTERNAL_ERROR, message: f.message };
  } catch {
    // cut at the capture limit: read the fields that are whole
    const out = { sqlstate: SqlState.INTERNAL_ERROR as string, message: '' };
    let off = 0;
    while (off < payload.length && payload[off] !== 0) {
      const type = payload[off];
      const v = cstringAt(payload, off + 1);
      if (type === 0x43) out.sqlstate = v.text;
      if (type === 0x4d) out.message = v.text;
      off = v.end;
    }
    return out;
  }
}
