/** One value in a grid: NULL and '' told apart, long values cut with "show all" (a dialog; a value the server cut loads whole on demand). */
import { useState } from 'react';
import { Dialog } from '../components/ui.tsx';
import type { Cell } from './client.ts';
import { fullText, shown } from './values.ts';

export function ValueCell({ value, type, column, loadFull }: { value: Cell; type: string; column: string; loadFull?: () => Promise<Cell> }) {
  const [open, setOpen] = useState(false);
  const [whole, setWhole] = useState<{ text: string } | { error: string }>();
  const s = shown(value, type);
  if (s.kind === 'null') return <span className="v-null">NULL</span>;
  if (s.kind === 'empty')
    return (
      <span className="v-empty" title="empty string">
        ''
      </span>
    );
  const load = () => {
    if (!loadFull) return;
    loadFull().then(
      (v) => setWhole({ text: fullText(v, type) ?? '' }),
      (err: unknown) => setWhole({ error: err instanceof Error ? err.message : String(err) }),
    );
  };
  return (
    <span className="v-cell">
      <span className={s.mono ? 'v-text mono' : 'v-text'}>{s.text}</span>
      {s.cut && (
        <button type="button" className="link show-all" onClick={() => setOpen(true)} aria-label={`Show all of ${column}`}>
          show all
        </button>
      )}
      {open && (
        <Dialog title={`${column} (${type})`} onClose={() => setOpen(false)} wide>
          {s.length !== undefined && !whole && (
            <p className="muted small">
              {s.length.toLocaleString()} characters; the first {s.full.length.toLocaleString()} are shown.{' '}
              {loadFull ? (
                <button type="button" className="link" onClick={load}>
                  Load all {s.length.toLocaleString()} characters
                </button>
              ) : (
                'Read the rest with substr() in the SQL terminal.'
              )}
            </p>
          )}
          {whole && 'error' in whole && (
            <p className="error" role="alert">
              {whole.error}
            </p>
          )}
          <pre className="sql-full value-full" tabIndex={0} data-testid="value-full">
            {whole && 'text' in whole ? whole.text : s.full}
          </pre>
          <div className="actions">
            <button type="button" className="primary" onClick={() => setOpen(false)}>
              Close
            </button>
          </div>
        </Dialog>
      )}
    </span>
  );
}
