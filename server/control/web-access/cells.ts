/**
 * How a PostgreSQL value travels to the browser (docs/web-access.md, "Cell encoding"). Every
 * value arrives as PostgreSQL's text output and is encoded by its type OID:
 * NULL → null (never ''), booleans → true/false, int2/int4/oid/float4/float8 → numbers (NaN and
 * ±Infinity stay strings), int8 and numeric → strings (exact), json/jsonb → the JSON value,
 * bytea → '\x…' hex, arrays of built-in types → JSON arrays of encoded elements, everything
 * else (timestamptz with its zone, dates, uuids, enums, …) → PostgreSQL's text as is. Text
 * longer than the limit → { truncated: true, length, value: first `limit` characters }.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export interface TruncatedCell {
  truncated: true;
  /** Characters in the whole value. */
  length: number;
  /** Its first characters. */
  value: string;
}
export type Cell = JsonValue | TruncatedCell;

/** Characters of a text value sent in a grid cell. */
export const DEFAULT_CELL_TEXT_LIMIT = 2000;

const Oid = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  numeric: 1700,
  jsonb: 3802,
} as const;

const NUMBER_TYPES = new Set<number>([Oid.int2, Oid.int4, Oid.oid, Oid.float4, Oid.float8]);
const JSON_TYPES = new Set<number>([Oid.json, Oid.jsonb]);

/** Array type OID → element type OID, for the built-in types. */
const ARRAY_ELEMENTS = new Map<number, number>([
  [1000, Oid.bool],
  [1001, Oid.bytea],
  [1005, Oid.int2],
  [1007, Oid.int4],
  [1016, Oid.int8],
  [1028, Oid.oid],
  [1021, Oid.float4],
  [1022, Oid.float8],
  [1231, Oid.numeric],
  [199, Oid.json],
  [3807, Oid.jsonb],
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [1003, 19],
  [1182, 1082],
  [1115, 1114],
  [1185, 1184],
  [1183, 1083],
  [1270, 1266],
  [2951, 2950],
  [1041, 869],
  [651, 650],
  [1040, 829],
  [1187, 1186],
]);

export function isArrayType(oid: number): boolean {
  return ARRAY_ELEMENTS.has(oid);
}

export function isJsonType(oid: number): boolean {
  return JSON_TYPES.has(oid);
}

/** One cell; `limit` null: never cut (exports). */
export function encodeCell(text: string | null, typeOid: number, limit: number | null = DEFAULT_CELL_TEXT_LIMIT): Cell {
  if (text === null) return null;
  if (limit !== null && text.length > limit && !NUMBER_TYPES.has(typeOid) && typeOid !== Oid.bool) {
    return {
      truncated: true,
      length: text.length,
      value: text.slice(0, limit),
    };
  }
  return decodeText(text, typeOid);
}

function decodeText(text: string, typeOid: number): JsonValue {
  if (typeOid === Oid.bool) return text === 't';
  if (NUMBER_TYPES.has(typeOid)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  if (JSON_TYPES.has(typeOid)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      return text;
    }
  }
  const element = ARRAY_ELEMENTS.get(typeOid);
  if (element !== undefined) {
    const parsed = parseArrayText(text);
    return parsed === undefined ? text : mapArray(parsed, element);
  }
  return text;
}

type TextArray = Array<string | null | TextArray>;

function mapArray(items: TextArray, element: number): JsonValue[] {
  return items.map((item) => (item === null ? null : Array.isArray(item) ? mapArray(item, element) : decodeText(item, element)));
}

/**
 * PostgreSQL's array output: `{a,"b c",NULL,{x,y}}`, optionally after dimensions (`[0:1]={…}`).
 * Undefined when the text is not in that form (the caller keeps the text).
 */
export function parseArrayText(text: string): TextArray | undefined {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  if (text[i] !== '{') return undefined;
  const parseLevel = (): TextArray | undefined => {
    const out: TextArray = [];
    i += 1; // '{'
    if (text[i] === '}') {
      i += 1;
      return out;
    }
    for (;;) {
      if (text[i] === '{') {
        const nested = parseLevel();
        if (nested === undefined) return undefined;
        out.push(nested);
      } else if (text[i] === '"') {
        let value = '';
        i += 1;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i += 1;
          value += text[i];
          i += 1;
        }
        if (i >= text.length) return undefined;
        i += 1;
        out.push(value);
      } else {
        const start = i;
        while (i < text.length && text[i] !== ',' && text[i] !== '}') i += 1;
        const raw = text.slice(start, i);
        out.push(raw === 'NULL' ? null : raw);
      }
      if (text[i] === ',') i += 1;
      else if (text[i] === '}') {
        i += 1;
        return out;
      } else return undefined;
    }
  };
  const result = parseLevel();
  return result !== undefined && i === text.length ? result : undefined;
}

/**
 * A browser value back to what node-postgres binds for a column: null stays null, JSON values
 * of json/jsonb columns are serialized, arrays are bound as arrays (node-postgres writes the
 * array literal), booleans and numbers as their text.
 */
export function bindValue(value: unknown, typeOid: number): unknown {
  if (value === null || value === undefined) return null;
  if (JSON_TYPES.has(typeOid)) return JSON.stringify(value);
  if (Array.isArray(value)) return value.map((v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v));
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
