/**
 * The SQL terminal: tabs of SQL over one database connection (the web session's), run with
 * Ctrl/Cmd+Enter or Run; each statement's result, error (its position marked in the editor)
 * and notices below; Cancel while it runs; the transaction state always in view with Commit
 * and Rollback; the user's history of statements on this account.
 */
import type { EditorState } from '@codemirror/state';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ErrorText } from '../components/ui.tsx';
import { uiError, type UiError } from '../store/session.ts';
import {
  openTerminal,
  typeName,
  webApi,
  type Catalog,
  type Cell,
  type HistoryEntry,
  type ServerMessage,
  type TerminalSocket,
  type TxState,
  type WebSessionInfo,
} from './client.ts';
import { ResultGrid } from './ResultGrid.tsx';
import { markError, runTarget, SqlEditor, tokenEnd, type EditorHandle, type RunRequest } from './SqlEditor.tsx';
import type { EndedCheck } from './store.ts';

type Item =
  | {
      kind: 'result';
      resultId?: string;
      columns: { name: string; type: string }[];
      rows: Cell[][];
      rowCount: number | null;
      command: string | null;
      durationMs: number;
      more: boolean;
    }
  | { kind: 'error'; code: string; message: string; position?: number; detail?: string; hint?: string }
  | { kind: 'notice'; message: string; severity?: string };
interface Run {
  id: string;
  sql: string;
  offset: number;
  items: Item[];
  running: boolean;
  startedAt: number;
  doneAt?: number;
}
interface Tab {
  id: string;
  title: string;
  state?: EditorState;
  run?: Run;
}

const TX_LABEL: Record<TxState, string> = { idle: 'Idle', 'in-transaction': 'In transaction', failed: 'Failed transaction' };
const FETCH_ROWS = 1000;

let counter = 0;
const nextId = (p: string) => `${p}${Date.now().toString(36)}${(counter++).toString(36)}`;

export function SqlTerminal({ info, onEnded, onError }: { info: WebSessionInfo; onEnded: (reason: string, message: string) => void; onError: EndedCheck }) {
  const [tabs, setTabs] = useState<Tab[]>([{ id: 't1', title: 'Query 1' }]);
  const [active, setActive] = useState('t1');
  const [tx, setTx] = useState<TxState>('idle');
  const [connected, setConnected] = useState<'connecting' | 'open' | 'closed'>('connecting');
  const [closedWhy, setClosedWhy] = useState<string>();
  const [catalog, setCatalog] = useState<Catalog>();
  const [historyOpen, setHistoryOpen] = useState(false);
  const [history, setHistory] = useState<HistoryEntry[]>();
  const [error, setError] = useState<UiError>();
  const [attempt, setAttempt] = useState(0);
  const socket = useRef<TerminalSocket>(undefined);
  const editor = useRef<EditorHandle>(undefined);
  const runTab = useRef(new Map<string, string>());
  /** Notices carry no run id: they belong to the run in progress (one at a time per connection). */
  const lastRun = useRef<string>(undefined);
  const activeRef = useRef(active);
  const tabsRef = useRef(tabs);
  const endedRef = useRef(onEnded);
  useEffect(() => {
    activeRef.current = active;
    tabsRef.current = tabs;
    endedRef.current = onEnded;
  });

  const updateRun = useCallback((runId: string, f: (r: Run) => Run) => {
    const tabId = runTab.current.get(runId);
    if (!tabId) return;
    setTabs((ts) => ts.map((t) => (t.id === tabId && t.run?.id === runId ? { ...t, run: f(t.run) } : t)));
  }, []);

  const loadHistory = useCallback(() => {
    webApi.history(info.account.id).then(
      (r) => setHistory(r.entries),
      (err) => {
        if (!onError(err)) setError(uiError(err));
      },
    );
  }, [info.account.id, onError]);

  const onMessage = useCallback(
    (m: ServerMessage) => {
      switch (m.type) {
        case 'tx':
          setTx(m.state);
          break;
        case 'ended':
          endedRef.current(m.reason, m.message);
          break;
        case 'result':
          updateRun(m.id, (r) => {
            const same = m.resultId !== undefined ? r.items.findIndex((i) => i.kind === 'result' && i.resultId === m.resultId) : -1;
            if (same >= 0) {
              const prev = r.items[same] as Extract<Item, { kind: 'result' }>;
              const items = [...r.items];
              items[same] = {
                ...prev,
                rows: [...prev.rows, ...m.rows],
                more: m.more,
                rowCount: m.rowCount ?? prev.rowCount,
                command: m.command ?? prev.command,
              };
              return { ...r, items };
            }
            return {
              ...r,
              items: [
                ...r.items,
                {
                  kind: 'result',
                  resultId: m.resultId,
                  columns: m.columns.map((c) => ({ name: c.name, type: typeName(c.typeOid) })),
                  rows: m.rows,
                  rowCount: m.rowCount,
                  command: m.command,
                  durationMs: m.durationMs,
                  more: m.more,
                },
              ],
            };
          });
          break;
        case 'error': {
          if (!m.id) {
            setError({ code: m.code, message: m.message });
            break;
          }
          updateRun(m.id, (r) => ({
            ...r,
            items: [...r.items, { kind: 'error', code: m.code, message: m.message, position: m.position, detail: m.detail, hint: m.hint }],
          }));
          const tabId = runTab.current.get(m.id);
          const tab = tabsRef.current.find((t) => t.id === tabId);
          if (m.position !== undefined && tab?.run && tab.run.offset >= 0 && tabId === activeRef.current && editor.current) {
            const from = tab.run.offset + m.position - 1;
            markError(editor.current.view, { from, to: tokenEnd(editor.current.view.state.doc.toString(), from) });
          }
          break;
        }
        case 'notice':
          if (lastRun.current) updateRun(lastRun.current, (r) => ({ ...r, items: [...r.items, { kind: 'notice', message: m.message, severity: m.severity }] }));
          break;
        case 'done':
          updateRun(m.id, (r) => ({ ...r, running: false, doneAt: Date.now() }));
          loadHistory();
          break;
      }
    },
    [updateRun, loadHistory],
  );

  useEffect(() => {
    const s = openTerminal(info.id, {
      open: () => {
        setConnected('open');
        setClosedWhy(undefined);
      },
      message: onMessage,
      closed: (code, reason) => {
        setConnected('closed');
        setClosedWhy(reason || `code ${code}`);
        setTabs((ts) => ts.map((t) => (t.run?.running ? { ...t, run: { ...t.run, running: false } } : t)));
      },
    });
    socket.current = s;
    return () => s.close();
  }, [info.id, onMessage, attempt]);

  useEffect(() => {
    webApi.catalog(info.id).then(setCatalog, (err) => {
      if (!onError(err)) setError(uiError(err));
    });
    loadHistory();
  }, [info.id, onError, loadHistory]);

  const current = tabs.find((t) => t.id === active);
  const running = tabs.some((t) => t.run?.running);

  const run = useCallback((req: RunRequest) => {
    if (!req.sql.trim() || !socket.current) return;
    const id = nextId('r');
    runTab.current.set(id, activeRef.current);
    lastRun.current = id;
    if (editor.current) markError(editor.current.view, null);
    setError(undefined);
    setTabs((ts) =>
      ts.map((t) =>
        t.id === activeRef.current ? { ...t, run: { id, sql: req.sql, offset: req.offset, items: [], running: true, startedAt: Date.now() } } : t,
      ),
    );
    socket.current.send({ type: 'run', id, sql: req.sql });
  }, []);

  const runAll = () => {
    const view = editor.current?.view;
    if (view) run({ sql: view.state.doc.toString(), offset: 0 });
  };
  const runNow = () => {
    const view = editor.current?.view;
    if (!view) return;
    // The same choice as Ctrl/Cmd+Enter: the selection, else the statement at the cursor.
    const target = runTarget(view.state);
    view.focus();
    if (target) run(target);
  };

  const switchTab = (id: string) => {
    const h = editor.current;
    if (!h || id === active) return;
    const saved = h.view.state;
    setTabs((ts) => ts.map((t) => (t.id === active ? { ...t, state: saved } : t)));
    const next = tabs.find((t) => t.id === id);
    h.show(next?.state ?? h.newState(''));
    setActive(id);
  };
  const addTab = () => {
    const h = editor.current;
    if (!h) return;
    const id = nextId('t');
    const saved = h.view.state;
    setTabs((ts) => [...ts.map((t) => (t.id === active ? { ...t, state: saved } : t)), { id, title: `Query ${ts.length + 1}` }]);
    h.show(h.newState(''));
    setActive(id);
  };
  const closeTab = (id: string) => {
    if (tabs.length === 1) return;
    const rest = tabs.filter((t) => t.id !== id);
    setTabs(rest);
    if (id === active) {
      const next = rest[rest.length - 1];
      editor.current?.show(next.state ?? editor.current.newState(''));
      setActive(next.id);
    }
  };
  const fromHistory = (sql: string) => {
    const view = editor.current?.view;
    if (!view) return;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: sql }, selection: { anchor: sql.length } });
    view.focus();
  };
  const fetchMore = (runId: string, resultId: string) => socket.current?.send({ type: 'fetch', id: runId, resultId, rows: FETCH_ROWS });

  return (
    <div className="terminal">
      <div className="term-bar">
        <div className="tabs" role="group" aria-label="Query tabs">
          {tabs.map((t) => (
            <span key={t.id} className={`tab${t.id === active ? ' current' : ''}`}>
              <button type="button" aria-pressed={t.id === active} onClick={() => switchTab(t.id)}>
                {t.title}
                {t.run?.running ? ' …' : ''}
              </button>
              {tabs.length > 1 && (
                <button type="button" className="icon" aria-label={`Close ${t.title}`} onClick={() => closeTab(t.id)}>
                  ×
                </button>
              )}
            </span>
          ))}
          <button type="button" className="icon add-tab" aria-label="New tab" onClick={addTab}>
            +
          </button>
        </div>
        <div className={`tx-state tx-${tx}`} role="status" aria-live="polite" data-testid="tx-state">
          <span className="dot" aria-hidden="true" /> Transaction: <strong>{TX_LABEL[tx]}</strong>
        </div>
        <button type="button" onClick={() => run({ sql: 'commit', offset: -1 })} disabled={tx === 'idle' || running || connected !== 'open'}>
          Commit
        </button>
        <button type="button" onClick={() => run({ sql: 'rollback', offset: -1 })} disabled={tx === 'idle' || running || connected !== 'open'}>
          Rollback
        </button>
      </div>

      <div className="term-main">
        <div className="term-editor card">
          <SqlEditor
            catalog={catalog}
            onRun={run}
            label="SQL editor"
            onReady={(h) => {
              editor.current = h;
            }}
          />
          <div className="term-actions">
            <button
              type="button"
              className="primary"
              onClick={runNow}
              disabled={running || connected !== 'open'}
              title="Ctrl+Enter (⌘+Enter): the selection, else the statement at the cursor"
            >
              Run
            </button>
            <button type="button" onClick={runAll} disabled={running || connected !== 'open'}>
              Run all
            </button>
            <button type="button" className="danger" onClick={() => socket.current?.send({ type: 'cancel' })} disabled={!running}>
              Cancel
            </button>
            <span className="muted small">
              Ctrl/⌘+Enter runs the selection or the statement at the cursor. Statement timeout {Math.round(info.limits.statementTimeoutMs / 1000)} s; up to{' '}
              {info.limits.maxRowsPerResult.toLocaleString()} rows per result, more on demand.
            </span>
            <button type="button" className="link history-toggle" aria-expanded={historyOpen} onClick={() => setHistoryOpen(!historyOpen)}>
              History
            </button>
          </div>
        </div>
        {historyOpen && (
          <aside className="term-history card" aria-label="History">
            <h3>History</h3>
            {history?.length === 0 && <p className="muted small">Nothing run yet on this account.</p>}
            <ul>
              {history?.map((h) => (
                <li key={h.id}>
                  <button type="button" className="history-item" onClick={() => fromHistory(h.sql)} title={new Date(h.ranAt).toLocaleString()}>
                    {h.sql}
                  </button>
                </li>
              ))}
            </ul>
          </aside>
        )}
      </div>

      {connected === 'connecting' && <p className="muted small">Connecting to the database…</p>}
      {connected === 'closed' && (
        <p className="error" role="alert">
          The terminal lost its connection ({closedWhy}).{' '}
          <button
            type="button"
            className="link"
            onClick={() => {
              setConnected('connecting');
              setAttempt((n) => n + 1);
            }}
          >
            Reconnect
          </button>
        </p>
      )}
      <ErrorText error={error} />
      {current?.run && <RunOutput run={current.run} onMore={fetchMore} />}
    </div>
  );
}

function RunOutput({ run, onMore }: { run: Run; onMore: (runId: string, resultId: string) => void }) {
  return (
    <section className="run-output" aria-label="Results" aria-busy={run.running}>
      <div className="run-status muted small" role="status">
        {run.running ? 'Running…' : run.doneAt !== undefined ? `Done in ${(run.doneAt - run.startedAt).toLocaleString()} ms` : 'Stopped'}
        {' · '}
        {run.items.filter((i) => i.kind === 'result').length} result(s)
      </div>
      {run.items.map((item, i) => {
        if (item.kind === 'notice')
          return (
            <p key={i} className="notice small term-notice">
              {item.severity ?? 'NOTICE'}: {item.message}
            </p>
          );
        if (item.kind === 'error') {
          return (
            <p key={i} className="error term-error" role="alert" data-code={item.code}>
              <code>{item.code}</code> {item.message}
              {item.position !== undefined && run.offset >= 0 ? ` (at character ${run.offset + item.position}; marked in the editor)` : ''}
              {item.detail && (
                <>
                  <br />
                  <span className="small">Detail: {item.detail}</span>
                </>
              )}
              {item.hint && (
                <>
                  <br />
                  <span className="small">Hint: {item.hint}</span>
                </>
              )}
            </p>
          );
        }
        const shownRows = item.rows.length;
        return (
          <div key={i} className="result card">
            <div className="result-head">
              <strong>{item.command ?? 'Result'}</strong>
              <span className="muted small">
                {item.rowCount !== null
                  ? `${item.rowCount.toLocaleString()} row${item.rowCount === 1 ? '' : 's'}`
                  : item.more
                    ? `${shownRows.toLocaleString()} rows so far`
                    : ''}
                {item.columns.length > 0 && item.rowCount !== shownRows ? ` (${shownRows.toLocaleString()} shown)` : ''} · {item.durationMs.toLocaleString()} ms
              </span>
              {item.more && item.resultId && (
                <button type="button" onClick={() => onMore(run.id, item.resultId!)}>
                  Fetch {FETCH_ROWS.toLocaleString()} more
                </button>
              )}
            </div>
            {item.columns.length > 0 && <ResultGrid columns={item.columns} rows={item.rows} label={`Result ${i + 1}: ${item.command ?? 'rows'}`} />}
          </div>
        );
      })}
    </section>
  );
}
