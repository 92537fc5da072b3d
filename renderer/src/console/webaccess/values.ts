/**
 * How a PostgreSQL value reads in a grid cell, faithfully: NULL apart from the empty string,
 * json/jsonb formatted, bytea as hex, arrays as PostgreSQL writes them, timestamps as the
 * server sent them (with their zone), long text cut with a way to see all of it. Values are
 * rendered as React text, never as HTML.
 */
import type { Cell } from './client.ts';

/** Longer text is cut in the grid (the cell offers "show all"). */
export const CELL_LIMIT = 200;

export type Shown =
  | { kind: 'null' }
  | { kind: 'empty' }
  | {
      kind: 'text';
      text: string;
      full: string;
      cut: boolean;
      mono?: boolean;
      /** Set when the server sent only the first characters of `length`. */ length?: number;
    };

export function isJsonType(type: string): boolean {
  return type === 'json' || type === 'jsonb';
}

/** A value the server cut (cells.ts): its first characters and the whole length. */
export interface TruncatedCell {
  truncated: true;
  length: number;
  value: string;
}
export function isTruncated(v: Cell): v is TruncatedCell {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (v as { truncated?: unknown }).truncated === true &&
    typeof (v as { value?: unknown }).value === 'string'
  );
}

/** PostgreSQL's array literal: {1,2,NULL,"a b"}. */
function arrayLiteral(v: unknown[]): string {
  const item = (x: unknown): string => {
    if (x === null || x === undefined) return 'NULL';
    if (Array.isArray(x)) return arrayLiteral(x);
    const s = typeof x === 'string' ? x : JSON.stringify(x);
    return s === '' || /[{},"\\\s]|^null$/i.test(s) ? `"${s.replace(/(["\\])/g, '\\$1')}"` : s;
  };
  return `{${v.map(item).join(',')}}`;
}

/** The full text of a value (copy, "show all", the edit field); null for NULL. */
export function fullText(value: Cell, type = ''): string | null {
  if (value === null || value === undefined) return null;
  if (isTruncated(value)) return value.value;
  if (isJsonType(type)) return JSON.stringify(value, null, 2);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value, null, 2);
}

/** One line for the grid: json on one line, cut at CELL_LIMIT. */
export function shown(value: Cell, type = ''): Shown {
  const full = fullText(value, type);
  if (full === null) return { kind: 'null' };
  if (full === '') return { kind: 'empty' };
  const json = isJsonType(type) || (typeof value === 'object' && !Array.isArray(value) && !isTruncated(value));
  const oneLine = json ? JSON.stringify(value) : full;
  const serverCut = isTruncated(value) ? value.length : undefined;
  const cut = oneLine.length > CELL_LIMIT || serverCut !== undefined;
  return {
    kind: 'text',
    text: oneLine.length > CELL_LIMIT ? `${oneLine.slice(0, CELL_LIMIT)}…` : oneLine,
    full,
    cut,
    ...(serverCut !== undefined ? { length: serverCut } : {}),
    mono: type === 'bytea' || json,
  };
}

/** Tab-separated text of rows (copy to a spreadsheet): NULL as an empty field. */
export function rowsAsTsv(columns: { name: string; type: string }[], rows: Cell[][], header: boolean): string {
  const field = (v: Cell, t: string) => (fullText(v, t) ?? '').replace(/[\t\n\r]/g, ' ');
  const lines = rows.map((r) => r.map((v, i) => field(v, columns[i]?.type ?? '')).join('\t'));
  return (header ? [columns.map((c) => c.name).join('\t'), ...lines] : lines).join('\n');
}

/** What an edit sends: the text as typed ('' stays ''), null only from the NULL box; json columns parse it (the server serializes JSON values). */
export function editedValue(text: string, isNull: boolean, type: string): unknown {
  if (isNull) return null;
  if (isJsonType(type)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** An estimated row count, short: 840, 12.3k, 1.2M. */
export function estimate(n: number | null): string {
  if (n === null || n < 0) return '?';
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
