/**
 * The terminal's editor: CodeMirror 6 with PostgreSQL's dialect, completion of the
 * catalog's schemas, tables and columns, Ctrl/Cmd+Enter to run (the selection, else the
 * statement at the cursor), and the error's position marked. One EditorView; each tab keeps
 * its own EditorState. The editor lives in a shadow root so that its injected styles need no
 * 'unsafe-inline' in the CSP.
 */
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { PostgreSQL, sql, type SQLNamespace } from '@codemirror/lang-sql';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Compartment, EditorState, StateEffect, StateField, type Extension } from '@codemirror/state';
import { Decoration, drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers, type DecorationSet } from '@codemirror/view';
import { useEffect, useRef } from 'react';
import type { Catalog } from './client.ts';
import { statementAt } from './sql-split.ts';

/** What Run sends: the text and where it starts in the document (to place an error's position). */
export interface RunRequest {
  sql: string;
  offset: number;
}

const setErrorMark = StateEffect.define<{ from: number; to: number } | null>();
const errorMark = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    let next = marks.map(tr.changes);
    for (const e of tr.effects) {
      if (e.is(setErrorMark))
        next = e.value
          ? Decoration.set([Decoration.mark({ class: 'cm-sql-error', attributes: { title: 'error here' } }).range(e.value.from, e.value.to)])
          : Decoration.none;
    }
    if (tr.docChanged && !tr.effects.some((e) => e.is(setErrorMark))) next = Decoration.none;
    return next;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export function namespaceOf(catalog: Catalog | undefined): { schema: SQLNamespace; defaultSchema?: string } {
  if (!catalog) return { schema: {} };
  const schema: Record<string, Record<string, string[]>> = {};
  for (const s of catalog.schemas) schema[s.name] = Object.fromEntries(s.tables.map((t) => [t.name, t.columns.map((c) => c.name)]));
  return { schema, defaultSchema: catalog.schemas.some((s) => s.name === 'public') ? 'public' : undefined };
}

function languageFor(catalog: Catalog | undefined) {
  return sql({ dialect: PostgreSQL, upperCaseKeywords: false, ...namespaceOf(catalog) });
}

/** What to run now: the selection when there is one, else the statement at the cursor. */
export function runTarget(state: EditorState): RunRequest | undefined {
  const sel = state.selection.main;
  if (!sel.empty) return { sql: state.sliceDoc(sel.from, sel.to), offset: sel.from };
  const doc = state.doc.toString();
  const span = statementAt(doc, sel.head);
  return span ? { sql: span.text, offset: span.from } : undefined;
}

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '13px', backgroundColor: '#fff' },
  '.cm-scroller': { fontFamily: 'ui-monospace, Menlo, Consolas, monospace' },
  '.cm-gutters': { backgroundColor: '#fafbfc', color: '#566072', borderRight: '1px solid #e3e6ec' },
  '.cm-sql-error': { textDecoration: 'underline wavy #d0393e', backgroundColor: '#fdeeee' },
  '.cm-activeLine': { backgroundColor: '#f5f8ff' },
});

export interface EditorHandle {
  view: EditorView;
  /** A tab's own state (its document, undo history, selection). */
  newState(doc: string): EditorState;
  /** Shows a tab's state in the editor, with the newest catalog. */
  show(state: EditorState): void;
}

export function SqlEditor({
  catalog,
  onRun,
  onReady,
  label,
}: {
  catalog: Catalog | undefined;
  onRun: (r: RunRequest) => void;
  onReady: (h: EditorHandle) => void;
  label: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const runRef = useRef(onRun);
  const language = useRef(new Compartment());
  const handle = useRef<EditorHandle>(undefined);
  const catalogRef = useRef(catalog);
  useEffect(() => {
    runRef.current = onRun;
  }, [onRun]);
  const sqlLanguage = () => languageFor(catalogRef.current);

  useEffect(() => {
    if (!host.current) return;
    const run = (view: EditorView) => {
      const target = runTarget(view.state);
      if (target) runRef.current(target);
      return true;
    };
    const extensions = (): Extension[] => [
      lineNumbers(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      highlightActiveLine(),
      highlightSelectionMatches(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      language.current.of(sqlLanguage()),
      autocompletion({ activateOnTyping: true }),
      keymap.of([
        { key: 'Mod-Enter', run, preventDefault: true },
        ...closeBracketsKeymap,
        ...defaultKeymap,
        ...searchKeymap,
        ...historyKeymap,
        ...completionKeymap,
        indentWithTab,
      ]),
      errorMark,
      theme,
      EditorView.contentAttributes.of({ 'aria-label': label }),
    ];
    const newState = (doc: string) => EditorState.create({ doc, extensions: extensions() });
    // In a shadow root, CodeMirror's styles go to a constructed style sheet (adoptedStyleSheets)
    // instead of a <style> element, which the console's CSP (style-src 'self') refuses.
    const shadow = host.current.shadowRoot ?? host.current.attachShadow({ mode: 'open' });
    const parent = document.createElement('div');
    parent.style.height = '100%';
    shadow.replaceChildren(parent);
    const view = new EditorView({ parent, root: shadow, state: newState('') });
    const show = (state: EditorState) => {
      view.setState(state);
      view.dispatch({ effects: language.current.reconfigure(sqlLanguage()) });
    };
    handle.current = { view, newState, show };
    onReady(handle.current);
    return () => view.destroy();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  // The catalog arrives after the editor: completion learns the names then.
  useEffect(() => {
    catalogRef.current = catalog;
    const h = handle.current;
    if (h && catalog) h.view.dispatch({ effects: language.current.reconfigure(languageFor(catalog)) });
  }, [catalog]);

  return <div className="sql-editor" ref={host} />;
}

/** Marks [from, to) as the error's place and scrolls it into view; null clears it. */
export function markError(view: EditorView, at: { from: number; to: number } | null): void {
  if (at) {
    const len = view.state.doc.length;
    const from = Math.min(Math.max(0, at.from), len);
    const to = Math.min(Math.max(from + 1, at.to), len);
    view.dispatch({ effects: [setErrorMark.of(from < to ? { from, to } : null), EditorView.scrollIntoView(from)], selection: { anchor: from } });
  } else view.dispatch({ effects: setErrorMark.of(null) });
}

/** The word that starts at `pos` (PostgreSQL's position points at the token). */
export function tokenEnd(doc: string, pos: number): number {
  const m = /^[\w$."]+|^./.exec(doc.slice(pos));
  return pos + (m ? m[0].length : 1);
}
