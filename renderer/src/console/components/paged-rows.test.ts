import { describe, expect, it } from 'vitest';
import { mergeHead } from './paged-rows.ts';

const key = (r: { id: string }) => r.id;
const rows = (...ids: string[]) => ids.map((id) => ({ id }));

describe('issue 11: a live list keeps the pages loaded below a refreshed head', () => {
  it('replaces everything while only one page is loaded', () => {
    expect(mergeHead({ rows: rows('b', 'a'), cursor: null, loaded: true }, { rows: rows('c', 'b', 'a'), nextCursor: null }, key)).toEqual({
      rows: rows('c', 'b', 'a'),
      cursor: null,
      loaded: true,
    });
  });

  it('puts new rows on top, drops the ones the head no longer has, keeps later pages and their cursor', () => {
    const old = { rows: rows('e', 'd', 'c', 'b', 'a'), cursor: 'after-a', loaded: true };
    // A new session "f"; "d" ended (filtered out of an "active" list); the head is 3 rows.
    const merged = mergeHead(old, { rows: rows('f', 'e', 'c'), nextCursor: 'after-c' }, key);
    expect(merged).toEqual({ rows: rows('f', 'e', 'c', 'b', 'a'), cursor: 'after-a', loaded: true });
  });

  it('never shows a row twice when the head overlaps rows further down', () => {
    const old = { rows: rows('d', 'c', 'b', 'a'), cursor: 'after-a', loaded: true };
    const merged = mergeHead(old, { rows: rows('x', 'y', 'b'), nextCursor: 'after-b' }, key);
    expect(merged.rows.map(key)).toEqual(['x', 'y', 'b', 'a']);
    expect(new Set(merged.rows.map(key)).size).toBe(merged.rows.length);
  });
});
