/**
 * Splits a script into statements at top-level semicolons, the way psql does: not inside
 * '…' (with '' escapes), E'…' (with backslash escapes), "…" identifiers, $tag$…$tag$ bodies,
 * -- line comments or nested /* block comments *\/. Each statement keeps its offset in the
 * script so error positions map back to the editor. Statements holding only blanks and
 * comments are dropped.
 */

export interface ScriptStatement {
  sql: string;
  /** Index of the statement's first character in the script. */
  offset: number;
}

export function splitStatements(script: string): ScriptStatement[] {
  const out: ScriptStatement[] = [];
  let start = 0;
  let meaningful = false;
  let i = 0;
  const push = (end: number) => {
    if (meaningful) out.push({ sql: script.slice(start, end), offset: start });
    meaningful = false;
  };
  while (i < script.length) {
    const ch = script[i];
    const next = script[i + 1];
    if (ch === '-' && next === '-') {
      const eol = script.indexOf('\n', i);
      i = eol === -1 ? script.length : eol + 1;
      continue;
    }
    if (ch === '/' && next === '*') {
      i = skipBlockComment(script, i);
      continue;
    }
    if (ch === ';') {
      push(i);
      i += 1;
      start = i;
      continue;
    }
    if (!/\s/.test(ch)) meaningful = true;
    if (ch === "'") {
      const escapes = i > 0 && /[eE]/.test(script[i - 1]) && (i < 2 || !/[\w$]/.test(script[i - 2]));
      i = skipQuoted(script, i, "'", escapes);
    } else if (ch === '"') {
      i = skipQuoted(script, i, '"', false);
    } else if (ch === '$') {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(script.slice(i, i + 64));
      const prev = i > 0 ? script[i - 1] : '';
      if (tag && !/[\w$]/.test(prev)) {
        const close = script.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? script.length : close + tag[0].length;
      } else i += 1;
    } else i += 1;
  }
  push(script.length);
  return out;
}

function skipQuoted(script: string, at: number, quote: string, backslashEscapes: boolean): number {
  let i = at + 1;
  while (i < script.length) {
    const ch = script[i];
    if (backslashEscapes && ch === '\\') i += 2;
    else if (ch === quote && script[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i += 1;
  }
  return script.length;
}

function skipBlockComment(script: string, at: number): number {
  let depth = 0;
  let i = at;
  while (i < script.length) {
    if (script[i] === '/' && script[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (script[i] === '*' && script[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return script.length;
}

/**
 * PostgreSQL's error position (1-based, in characters of the statement) as a 1-based index in
 * the script's UTF-16 string (what the browser's editor counts).
 */
export function scriptPosition(statement: ScriptStatement, position: number): number {
  let units = 0;
  let chars = 0;
  for (const ch of statement.sql) {
    if (chars >= position - 1) break;
    units += ch.length;
    chars += 1;
  }
  return statement.offset + units + 1;
}
