import { describe, expect, it } from 'vitest';
import { splitStatements, statementAt } from './sql-split.ts';

describe('issue 12: the terminal picks the statement at the cursor', () => {
  it('splits at semicolons outside quotes, dollar quotes and comments', () => {
    const sql = "select ';' as a;\nselect \"x;y\" from t; -- one; two\ndo $$ begin raise notice 'a;b'; end $$;\n/* c; /* nested; */ d; */ select E'it\\'s;';";
    expect(splitStatements(sql).map((s) => s.text)).toEqual([
      "select ';' as a;",
      'select "x;y" from t;',
      "-- one; two\ndo $$ begin raise notice 'a;b'; end $$;",
      "/* c; /* nested; */ d; */ select E'it\\'s;';",
    ]);
  });

  it('the statement under the cursor, else the last one before it; offsets point into the script', () => {
    const sql = 'select 1;\n\nselect 2;\n';
    expect(statementAt(sql, 3)?.text).toBe('select 1;');
    expect(statementAt(sql, 14)).toEqual({ from: 11, to: 20, text: 'select 2;' });
    expect(statementAt(sql, sql.length)?.text).toBe('select 2;');
    expect(splitStatements('  -- only a comment\n')).toEqual([]);
  });
});
