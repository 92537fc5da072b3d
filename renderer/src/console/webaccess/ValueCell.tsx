/** One value in a grid: NULL and '' told apart, long values cut with "show all" (a dialog). */
import { useState } from 'react';
import { Dialog } from '../components/ui.tsx';
import type { Cell } from './client.ts';
import { shown } from './values.ts';

export function ValueCell({ value, type, column }: { value: Cell; type: string; column: string }) {
  const [open, setOpen] = useState(false);
  const s = shown(value, type);
  if (s.kind === 'null') return <span className="v-null">NULL</span>;
  if (s.kind === 'empty') return <span className="v-empty" title="empty string">''</span>;
  return (
    <>
      <span className={s.mono ? 'v-text mono' : 'v-text'}>{s.text}</span>
      {s.cut && <button type="button" className="link show-all" onClick={() => setOpen(true)} aria-label={`Show all of ${column}`}>show all</button>}
      {open && (
        <Dialog title={`${column} (${type})`} onClose={() => setOpen(false)} wide>
          {s.length !== undefined && <p className="muted small">{s.length.toLocaleString()} characters; the first {s.full.length.toLocaleString()} are shown. Run a query with substr() for the rest.</p>}
          <pre className="sql-full value-full" tabIndex={0}>{s.full}</pre>
          <div className="actions"><button type="button" className="primary" onClick={() => setOpen(false)}>Close</button></div>
        </Dialog>
      )}
    </>
  );
}
