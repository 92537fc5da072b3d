/** The pure pieces of Web Access: statement splitting, error positions, identifier quoting, array text. */
import { describe, expect, it } from 'vitest';
import { encodeCell, parseArrayText } from './cells.ts';
import { quoteIdent } from './sql-text.ts';
import { scriptPosition, splitStatements } from './terminal/split-statements.ts';

describe('splitStatements', () => {
  it('splits at top-level semicolons only', () => {
    const script = `select 'a;b'; select "x;y" from t; select $$;$$, $tag$ ; $$ $tag$; select E'\\';' ; -- c;\nselect /* ; /* nested ; */ */ 1;;  ;\n-- only a comment\n`;
    expect(splitStatements(script).map((s) => s.sql.trim())).toEqual([
      "select 'a;b'",
      'select "x;y" from t',
      'select $$;$$, $tag$ ; $$ $tag$',
      "select E'\\';'",
      '-- c;\nselect /* ; /* nested ; */ */ 1',
    ]);
  });

  it('keeps offsets so positions map back into the script, counting characters as PostgreSQL does', () => {
    const script = 'select 1;\nselect "ö😀", nope';
    const [, second] = splitStatements(script);
    expect(script.slice(second.offset)).toBe(second.sql);
    // PostgreSQL counts 😀 as one character; the editor counts two UTF-16 units.
    const pgPosition = [...second.sql].indexOf('n') + 1;
    expect(scriptPosition(second, pgPosition)).toBe(script.indexOf('nope') + 1);
  });
});

describe('quoteIdent', () => {
  it('doubles quotes and refuses NUL', () => {
    expect(quoteIdent('a"b; drop table x; --')).toBe('"a""b; drop table x; --"');
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });
});

describe('cells', () => {
  it('parses array text, nested, quoted and NULL', () => {
    expect(parseArrayText('{1,NULL,"a,b","q\\"x",{2,3}}')).toEqual(['1', null, 'a,b', 'q"x', ['2', '3']]);
    expect(parseArrayText('[0:1]={a,b}')).toEqual(['a', 'b']);
    expect(parseArrayText('{}')).toEqual([]);
    expect(parseArrayText('not an array')).toBeUndefined();
    expect(encodeCell('{"{\\"k\\": 1}",NULL}', 3807)).toEqual([{ k: 1 }, null]);
    expect(encodeCell('Infinity', 701)).toBe('Infinity');
    expect(encodeCell('', 25)).toBe('');
    expect(encodeCell(null, 25)).toBeNull();
  });
});
