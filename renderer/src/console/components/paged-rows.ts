/**
 * A list paged from the server with a keyset cursor (`GET /sessions`, `/users`, members):
 * the first page when the filters change, the next one when the view nears the end, and a
 * refresh of the head (for live lists) that keeps the pages already loaded below it.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { uiError, type UiError } from '../store/session.ts';

export interface Page<T> {
  rows: T[];
  nextCursor: string | null;
}

export interface PagedRows<T> {
  rows: T[];
  /** More rows wait on the server. */
  more: boolean;
  /** The first page has arrived (for "no rows" messages). */
  loaded: boolean;
  error: UiError | undefined;
  loadMore: () => void;
  /** Reads the first page again and puts it in front of the rows loaded below it. */
  refresh: () => Promise<void>;
}

interface State<T> {
  rows: T[];
  cursor: string | null;
  loaded: boolean;
}

/** The head page merged with what was loaded after it: no row twice, later pages kept. */
export function mergeHead<T>(old: State<T>, head: Page<T>, keyOf: (row: T) => string): State<T> {
  if (head.nextCursor === null || old.rows.length <= head.rows.length) return { rows: head.rows, cursor: head.nextCursor, loaded: true };
  const inHead = new Set(head.rows.map(keyOf));
  const last = head.rows.at(-1);
  const at = last === undefined ? -1 : old.rows.findIndex((r) => keyOf(r) === keyOf(last));
  const rest = (at >= 0 ? old.rows.slice(at + 1) : old.rows.slice(head.rows.length)).filter((r) => !inHead.has(keyOf(r)));
  return { rows: [...head.rows, ...rest], cursor: old.cursor, loaded: true };
}

export function usePagedRows<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, keyOf: (row: T) => string): PagedRows<T> {
  const [state, setState] = useState<State<T>>({ rows: [], cursor: null, loaded: false });
  const [error, setError] = useState<UiError>();
  const generation = useRef(0);
  // One flight of each kind at a time. A head refresh never holds back the next page (a
  // skipped "load more" would not be asked again until the view moves), and no next page
  // is read while the first page of new filters is on its way (its cursor is of the old ones).
  const busy = useRef({ first: false, more: false, head: false });

  const run = useCallback(
    async (kind: 'first' | 'more' | 'head', cursor: string | undefined, apply: (page: Page<T>) => (s: State<T>) => State<T>) => {
      const mine = generation.current;
      busy.current[kind] = true;
      try {
        const page = await fetchPage(cursor);
        if (mine !== generation.current) return;
        setState(apply(page));
        setError(undefined);
      } catch (err) {
        if (mine === generation.current) setError(uiError(err));
      } finally {
        if (mine === generation.current) busy.current[kind] = false;
      }
    },
    [fetchPage],
  );

  // New filters (a new fetchPage): start over from the first page.
  useEffect(() => {
    generation.current += 1;
    busy.current = { first: false, more: false, head: false };
    // eslint-disable-next-line react-hooks/set-state-in-effect -- run() sets state only after the fetch resolves
    void run('first', undefined, (page) => () => ({ rows: page.rows, cursor: page.nextCursor, loaded: true }));
  }, [run]);

  const { cursor } = state;
  const loadMore = useCallback(() => {
    if (cursor === null || busy.current.first || busy.current.more) return;
    void run('more', cursor, (page) => (s) => {
      const seen = new Set(s.rows.map(keyOf));
      return { rows: [...s.rows, ...page.rows.filter((r) => !seen.has(keyOf(r)))], cursor: page.nextCursor, loaded: true };
    });
  }, [cursor, run, keyOf]);
  const refresh = useCallback(async () => {
    if (busy.current.first || busy.current.head) return;
    await run('head', undefined, (page) => (s) => mergeHead(s, page, keyOf));
  }, [run, keyOf]);

  return { rows: state.rows, more: state.cursor !== null, loaded: state.loaded, error, loadMore, refresh };
}
