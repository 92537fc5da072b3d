/** Small building blocks of the console's screens: dialogs, copy fields, errors, links. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { copyText } from '../../shared/clipboard.ts';
import { useRoute } from '../store/route.ts';
import type { UiError } from '../store/session.ts';

/** A modal `<dialog>`: focus stays inside, Escape closes it. */
export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`card dialog console-dialog${wide ? ' wide' : ''}`}
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id="dialog-title">{title}</h2>
        <button type="button" className="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

export function ErrorText({ error }: { error: UiError | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-code={error.code}>
      {error.message}
    </p>
  );
}

/** A read-only value (a command, a link) with a Copy button. */
export function CopyField({ label, value, id }: { label: string; value: string; id: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="url-row">
        <input id={id} readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => void copyText(value).then((ok) => setCopied(ok))}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

/** An in-app link (keeps the page; opens in a new tab with the usual modifier keys). */
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      href={to}
      className={className}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        useRoute.getState().navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function StatusTag({ status }: { status: string }) {
  return <span className={`tag status-${status}`}>{status}</span>;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Calls `load` now and every `ms` while the component is shown. */
export function usePolling(load: () => Promise<void> | void, ms: number, deps: unknown[]): void {
  useEffect(() => {
    let stopped = false;
    const tick = () => {
      if (!stopped) void Promise.resolve(load()).catch(() => undefined);
    };
    tick();
    const t = setInterval(tick, ms);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
}

/** Downloads text as a file (JSON-lines exports). */
export function download(name: string, text: string, type = 'application/x-ndjson'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
