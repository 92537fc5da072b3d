import { describe, expect, it } from 'vitest';
import { editedValue, fullText, rowsAsTsv, shown } from './values.ts';

describe('issue 12: values shown faithfully in the grid', () => {
  it("NULL apart from '', json formatted, bytea and timestamps as sent, arrays as PostgreSQL writes them", () => {
    expect(shown(null, 'text')).toEqual({ kind: 'null' });
    expect(shown('', 'text')).toEqual({ kind: 'empty' });
    expect(shown({ a: [1, 2] }, 'jsonb')).toMatchObject({ kind: 'text', text: '{"a":[1,2]}', full: '{\n  "a": [\n    1,\n    2\n  ]\n}' });
    expect(shown('just a string', 'json')).toMatchObject({ text: '"just a string"' });
    expect(shown('\\xdeadbeef', 'bytea')).toMatchObject({ text: '\\xdeadbeef', mono: true });
    expect(fullText(['red', 'with space', null, ''], 'text[]')).toBe('{red,"with space",NULL,""}');
    expect(
      fullText(
        [
          [1, 2],
          [3, null],
        ],
        'integer[]',
      ),
    ).toBe('{{1,2},{3,NULL}}');
    expect(shown('2024-05-01 10:00:00+00', 'timestamp with time zone')).toMatchObject({ text: '2024-05-01 10:00:00+00', cut: false });
  });

  it('long text is cut with its length; a value the server cut says how long it is', () => {
    const long = shown('x'.repeat(500), 'text');
    expect(long).toMatchObject({ kind: 'text', cut: true });
    expect(long.kind === 'text' && long.text.length).toBe(201);
    expect(shown({ truncated: true, length: 5000, value: 'y'.repeat(2000) }, 'text')).toMatchObject({ kind: 'text', cut: true, length: 5000 });
  });

  it('HTML stays a string (rendered as text); copy as TSV; edits keep empty string and NULL apart', () => {
    expect(shown('<img src=x onerror=alert(1)>', 'text')).toMatchObject({ text: '<img src=x onerror=alert(1)>' });
    expect(
      rowsAsTsv(
        [
          { name: 'a', type: 'text' },
          { name: 'b', type: 'text' },
        ],
        [['1\t2', null]],
        true,
      ),
    ).toBe('a\tb\n1 2\t');
    expect(editedValue('', false, 'text')).toBe('');
    expect(editedValue('', true, 'text')).toBeNull();
    expect(editedValue('{"a":1}', false, 'jsonb')).toEqual({ a: 1 });
  });
});
