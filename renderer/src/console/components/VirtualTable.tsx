/**
 * A table whose rows are virtualized (only the visible ones are in the DOM) and which asks
 * for the next server page as the view nears its end: sessions, users. ARIA table roles, so
 * screen readers read it as a table; the scroll area takes focus for keyboard scrolling.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type ReactNode } from 'react';

export interface Column {
  label: ReactNode;
  className?: string;
}

export function VirtualTable<T>({
  label,
  className,
  columns,
  rows,
  keyOf,
  rowAttributes,
  cells,
  more,
  onMore,
  onRange,
  rowHeight = 44,
  resetKey,
}: {
  label: string;
  className: string;
  columns: Column[];
  rows: T[];
  keyOf: (row: T) => string;
  rowAttributes?: (row: T) => Record<string, string>;
  /** The row's cells, in column order. */
  cells: (row: T) => ReactNode[];
  more: boolean;
  onMore: () => void;
  /** The rows now rendered (first, last index), for per-row details fetched lazily. */
  onRange?: (first: number, last: number) => void;
  rowHeight?: number;
  /** When it changes (new filters), the list scrolls back to the top. */
  resetKey?: unknown;
}) {
  const parentRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    parentRef.current?.scrollTo(0, 0);
  }, [resetKey]);
  // eslint-disable-next-line react-hooks/incompatible-library -- a notice, not a fault: the build has no React Compiler, and TanStack Virtual re-renders the list on scroll by design
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => parentRef.current, estimateSize: () => rowHeight, overscan: 10 });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (more && rows.length > 0 && last >= rows.length - 30) onMore();
  }, [last, rows.length, more, onMore]);
  useEffect(() => {
    onRange?.(first, last);
  }, [first, last, onRange]);

  return (
    <div className={`log-table ${className}`} role="table" aria-label={label} aria-rowcount={more ? -1 : rows.length + 1}>
      <div role="rowgroup">
        <div role="row" className="log-row log-head" aria-rowindex={1}>
          {columns.map((c, i) => (
            <span key={i} role="columnheader" className={c.className}>
              {c.label}
            </span>
          ))}
        </div>
      </div>
      <div ref={parentRef} className="log-scroll" role="rowgroup" tabIndex={0} aria-label={`${label} (scroll for more)`}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((v) => {
            const row = rows[v.index];
            return (
              <div
                key={keyOf(row)}
                role="row"
                aria-rowindex={v.index + 2}
                className="log-row"
                {...rowAttributes?.(row)}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` }}
              >
                {cells(row).map((cell, i) => (
                  <span key={i} role="cell" className={columns[i]?.className} title={typeof cell === 'string' ? cell : undefined}>
                    {cell}
                  </span>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
