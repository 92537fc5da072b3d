/**
 * A query result as a virtualized grid: only the rows in view are in the DOM (100,000 rows
 * scroll like 100). A cell is picked with the mouse or the arrow keys; Copy cell, Copy row
 * and Copy all (tab-separated, with the header) put it on the clipboard; Ctrl/Cmd+C copies
 * the picked cell.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, useState, type KeyboardEvent } from 'react';
import { copyText } from '../../shared/clipboard.ts';
import type { Cell } from './client.ts';
import { ValueCell } from './ValueCell.tsx';
import { fullText, rowsAsTsv } from './values.ts';

const ROW_HEIGHT = 28;
const COL_WIDTH = 180;
const NUM_WIDTH = 64;
const HEAD_HEIGHT = 40;
const MAX_HEIGHT = 320;
/** Room for a horizontal scroll bar under a short result. */
const SCROLLBAR = 14;

export function ResultGrid({ columns, rows, label }: { columns: { name: string; type: string }[]; rows: Cell[][]; label: string }) {
  const parent = useRef<HTMLDivElement>(null);
  const [at, setAt] = useState<{ row: number; col: number }>();
  const [copied, setCopied] = useState<string>();
  // eslint-disable-next-line react-hooks/incompatible-library -- a notice, not a fault: the build has no React Compiler, and TanStack Virtual re-renders the list on scroll by design
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => parent.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const width = NUM_WIDTH + columns.length * COL_WIDTH;
  const template = `${NUM_WIDTH}px repeat(${columns.length}, ${COL_WIDTH}px)`;

  const copy = (what: string, text: string) => void copyText(text).then((ok) => setCopied(ok ? what : 'Copy refused by the browser'));
  const copyCell = () => at && copy('Cell copied', fullText(rows[at.row]?.[at.col], columns[at.col]?.type) ?? '');
  const copyRow = () => at && copy('Row copied', rowsAsTsv(columns, [rows[at.row]], false));
  const copyAll = () => copy(`${rows.length.toLocaleString()} rows copied`, rowsAsTsv(columns, rows, true));

  const onKey = (e: KeyboardEvent) => {
    if (rows.length === 0) return;
    const cur = at ?? { row: 0, col: 0 };
    const move = (row: number, col: number) => {
      const next = { row: Math.max(0, Math.min(rows.length - 1, row)), col: Math.max(0, Math.min(columns.length - 1, col)) };
      setAt(next);
      virtual.scrollToIndex(next.row);
      e.preventDefault();
    };
    if (e.key === 'ArrowDown') move(cur.row + 1, cur.col);
    else if (e.key === 'ArrowUp') move(cur.row - 1, cur.col);
    else if (e.key === 'ArrowRight') move(cur.row, cur.col + 1);
    else if (e.key === 'ArrowLeft') move(cur.row, cur.col - 1);
    else if (e.key === 'PageDown') move(cur.row + 20, cur.col);
    else if (e.key === 'PageUp') move(cur.row - 20, cur.col);
    else if (e.key === 'Home' && e.ctrlKey) move(0, cur.col);
    else if (e.key === 'End' && e.ctrlKey) move(rows.length - 1, cur.col);
    else if ((e.ctrlKey || e.metaKey) && e.key === 'c' && at) {
      copyCell();
      e.preventDefault();
    }
  };

  return (
    <div className="result-grid">
      <div className="grid-tools">
        <button type="button" className="link" disabled={!at} onClick={copyCell}>
          Copy cell
        </button>
        <button type="button" className="link" disabled={!at} onClick={copyRow}>
          Copy row
        </button>
        <button type="button" className="link" disabled={rows.length === 0} onClick={copyAll}>
          Copy all
        </button>
        <span className="muted small" role="status">
          {copied ?? (at ? `Row ${at.row + 1}, ${columns[at.col]?.name}` : 'Click a cell or use the arrow keys to pick one')}
        </span>
      </div>
      <div
        className="grid-scroll"
        ref={parent}
        tabIndex={0}
        role="region"
        aria-label={label}
        onKeyDown={onKey}
        style={{ height: Math.min(MAX_HEIGHT, HEAD_HEIGHT + 2 + rows.length * ROW_HEIGHT + SCROLLBAR) }}
      >
        <div className="grid-row grid-head" style={{ gridTemplateColumns: template, width }}>
          <span className="rownum">#</span>
          {columns.map((c, i) => (
            <span key={i} title={`${c.name} (${c.type})`}>
              {c.name}
              <span className="col-type">{c.type}</span>
            </span>
          ))}
        </div>
        <div style={{ height: virtual.getTotalSize(), width, position: 'relative' }}>
          {virtual.getVirtualItems().map((v) => (
            <div
              key={v.key}
              className="grid-row"
              data-row={v.index}
              style={{ gridTemplateColumns: template, width, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
            >
              <span className="rownum">{v.index + 1}</span>
              {columns.map((c, i) => (
                <span key={i} className={at?.row === v.index && at.col === i ? 'picked' : undefined} onClick={() => setAt({ row: v.index, col: i })}>
                  <ValueCell value={rows[v.index][i]} type={c.type} column={c.name} />
                </span>
              ))}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
