/**
 * Where the statements of a script begin and end, for "run the statement at the cursor":
 * semicolons outside quotes ('…', "…", E'…' with backslashes, $tag$…$tag$) and comments
 * (-- and nested block comments). The server runs what it is sent; this only picks the text.
 */

export interface Span {
  from: number;
  to: number;
  text: string;
}

export function splitStatements(sql: string): Span[] {
  const out: Span[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const raw = sql.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text && !/^(--[^\n]*\n?\s*|\/\*[\s\S]*?\*\/\s*)*$/.test(text)) out.push({ from: start + lead, to: start + lead + text.length, text });
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'" || c === '"') {
      const backslashes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < sql.length) {
        if (backslashes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) {
          i++;
          break;
        } else i++;
      }
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? sql.length : end + tag[0].length;
      } else i++;
    } else if (c === ';') {
      push(i + 1);
      start = i + 1;
      i++;
    } else i++;
  }
  push(sql.length);
  return out;
}

/** The statement the cursor is in, or the last one before it (the cursor after `;` on its line). */
export function statementAt(sql: string, cursor: number): Span | undefined {
  const spans = splitStatements(sql);
  return spans.find((s) => cursor >= s.from && cursor <= s.to) ?? [...spans].reverse().find((s) => s.to <= cursor) ?? spans[0];
}
