/**
 * One table or view in the Data Explorer: columns with their types and the primary key
 * marked; pages read with keyset paging; the total (exact, or an estimate); filters combined
 * with AND; sort on several columns; staged inserts, updates and deletes shown as the
 * statements that will run and applied in one transaction; the export of what is shown.
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiError } from '../api.ts';
import { Dialog, ErrorText } from '../components/ui.tsx';
import { uiError, type UiError } from '../store/session.ts';
import {
  exportTable,
  OPERATORS,
  webApi,
  type Cell,
  type Change,
  type Column,
  type Filter,
  type Operator,
  type Relation,
  type RowsPage,
  type Sort,
  type TableColumns,
  type WebSessionInfo,
} from './client.ts';
import { ValueCell } from './ValueCell.tsx';
import type { EndedCheck } from './store.ts';
import { editedValue, estimate, fullText } from './values.ts';

const PAGE_SIZE = 50;
const NO_VALUE: Operator[] = ['IS NULL', 'IS NOT NULL'];

interface DraftFilter {
  column: string;
  op: Operator;
  value: string;
}
type Row = Record<string, Cell>;
interface Staged {
  inserts: Row[];
  updates: Map<string, { key: Row; original: Row; values: Row }>;
  deletes: Map<string, { key: Row; original: Row }>;
}
const emptyStaged = (): Staged => ({ inserts: [], updates: new Map(), deletes: new Map() });

function toFilter(d: DraftFilter): Filter {
  if (NO_VALUE.includes(d.op)) return { column: d.column, op: d.op };
  if (d.op === 'IN') return { column: d.column, op: d.op, value: d.value.split(',').map((v) => v.trim()) };
  return { column: d.column, op: d.op, value: d.value };
}

function changesOf(s: Staged): Change[] {
  return [
    ...[...s.deletes.values()].map((d): Change => ({ op: 'delete', key: d.key, original: d.original })),
    ...[...s.updates.values()].map((u): Change => ({ op: 'update', key: u.key, original: u.original, values: u.values })),
    ...s.inserts.map((values): Change => ({ op: 'insert', values })),
  ];
}

export function TableView({ info, schema, relation, onError }: { info: WebSessionInfo; schema: string; relation: Relation; onError: EndedCheck }) {
  const [meta, setMeta] = useState<TableColumns>();
  const [draft, setDraft] = useState<DraftFilter[]>([]);
  const [filters, setFilters] = useState<Filter[]>([]);
  const [sort, setSort] = useState<Sort[]>([]);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<RowsPage>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<UiError>();
  const [staged, setStaged] = useState<Staged>(emptyStaged);
  // The preview of exactly these staged changes (an older answer is not shown).
  const [preview, setPreview] = useState<{ of: Staged; statements: string[] }>();
  const [applying, setApplying] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [editing, setEditing] = useState<{ row?: Row }>();
  const [reload, setReload] = useState(0);

  const fail = useCallback(
    (err: unknown) => {
      if (!onError(err)) setError(uiError(err));
    },
    [onError],
  );

  useEffect(() => {
    webApi.columns(info.id, schema, relation.name).then(setMeta, fail);
  }, [info.id, schema, relation.name, fail]);

  const after = cursors[cursors.length - 1];
  useEffect(() => {
    let current = true;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the busy flag of the request this effect starts
    setLoading(true);
    webApi
      .rows(info.id, schema, relation.name, { filters, sort, limit: PAGE_SIZE, ...(after !== undefined ? { after } : {}) })
      .then(
        (p) => {
          if (current) {
            setPage(p);
            setError(undefined);
          }
        },
        (err) => {
          if (current) fail(err);
        },
      )
      .finally(() => {
        if (current) setLoading(false);
      });
    return () => {
      current = false;
    };
  }, [info.id, schema, relation.name, filters, sort, after, reload, fail]);

  const columns: Column[] = useMemo(() => meta?.columns ?? page?.columns.map((c) => ({ ...c, nullable: true, primaryKeyPosition: null })) ?? [], [meta, page]);
  const pk = useMemo(
    () => columns.filter((c) => c.primaryKeyPosition !== null).sort((a, b) => (a.primaryKeyPosition ?? 0) - (b.primaryKeyPosition ?? 0)),
    [columns],
  );
  const editable = meta?.editable === true;
  const pending = staged.inserts.length + staged.updates.size + staged.deletes.size;

  // The statements the staged changes will run, asked again after every change.
  useEffect(() => {
    if (pending === 0) return;
    let current = true;
    webApi.changes(info.id, schema, relation.name, changesOf(staged), true).then(
      (r) => {
        if (current) setPreview({ of: staged, statements: r.statements ?? [] });
      },
      (err) => {
        if (current) fail(err);
      },
    );
    return () => {
      current = false;
    };
  }, [staged, pending, info.id, schema, relation.name, fail]);

  const statements = preview?.of === staged ? preview.statements : undefined;
  const rowObject = (r: Cell[]): Row => Object.fromEntries((page?.columns ?? columns).map((c, i) => [c.name, r[i]]));
  const keyOf = (row: Row): { key: Row; id: string } => {
    const key = Object.fromEntries(pk.map((c) => [c.name, row[c.name]]));
    return { key, id: JSON.stringify(key) };
  };

  const resetPaging = () => setCursors([undefined]);
  const applyFilters = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft.map(toFilter));
    resetPaging();
  };
  const cycleSort = (column: string) => {
    const at = sort.find((s) => s.column === column);
    setSort(
      !at
        ? [...sort, { column, direction: 'asc' }]
        : at.direction === 'asc'
          ? sort.map((s) => (s.column === column ? { column, direction: 'desc' } : s))
          : sort.filter((s) => s.column !== column),
    );
    resetPaging();
  };

  const stageDelete = (row: Row) => {
    const { key, id } = keyOf(row);
    const next = { ...staged, deletes: new Map(staged.deletes), updates: new Map(staged.updates) };
    if (next.deletes.has(id)) next.deletes.delete(id);
    else {
      next.deletes.set(id, { key, original: row });
      next.updates.delete(id);
    }
    setStaged(next);
    setNotice(undefined);
  };
  const stageEdit = (row: Row | undefined, values: Row) => {
    if (Object.keys(values).length === 0) return;
    if (!row) setStaged({ ...staged, inserts: [...staged.inserts, values] });
    else {
      const { key, id } = keyOf(row);
      const updates = new Map(staged.updates);
      updates.set(id, { key, original: row, values: { ...(updates.get(id)?.values ?? {}), ...values } });
      setStaged({ ...staged, updates });
    }
    setNotice(undefined);
  };
  const apply = async () => {
    setApplying(true);
    setError(undefined);
    try {
      const r = await webApi.changes(info.id, schema, relation.name, changesOf(staged), false);
      setStaged(emptyStaged());
      setNotice(`Applied ${r.applied ?? pending} change${(r.applied ?? pending) === 1 ? '' : 's'} in one transaction.`);
      setReload((n) => n + 1);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'GATEHOUSE_ERR_ROW_CHANGED')
        setError({ code: err.code, message: `Nothing was applied: ${err.message}. Reload the rows, then stage your changes again.` });
      else fail(err);
    } finally {
      setApplying(false);
    }
  };
  const doExport = (format: 'csv' | 'json') => {
    exportTable(info.id, schema, relation.name, format, filters, sort).catch(fail);
  };

  const first = (cursors.length - 1) * PAGE_SIZE;
  const sortOf = (c: string) => {
    const i = sort.findIndex((s) => s.column === c);
    return i < 0 ? undefined : { n: i + 1, dir: sort[i].direction };
  };

  return (
    <div className="table-view">
      <div className="table-head">
        <h2>
          {schema}.{relation.name}
        </h2>
        <span className="muted small">{relation.kind.replace('_', ' ')}</span>
        <span className="table-total" aria-live="polite">
          {page && (page.total.exact ? `${page.total.count.toLocaleString()} rows` : `≈ ${page.total.count.toLocaleString()} rows (estimate)`)}
          {!page && relation.estimatedRows !== null && `≈ ${estimate(relation.estimatedRows)} rows`}
        </span>
        <div className="table-tools">
          {editable && (
            <button type="button" onClick={() => setEditing({})}>
              Add row
            </button>
          )}
          <button type="button" onClick={() => doExport('csv')}>
            Export CSV
          </button>
          <button type="button" onClick={() => doExport('json')}>
            Export JSON
          </button>
        </div>
      </div>
      {meta && !meta.editable && (
        <p className="notice small read-only" role="note">
          Read-only: {meta.readOnlyReason ?? 'this relation cannot be edited here'}.
        </p>
      )}

      <form className="filter-bar" onSubmit={applyFilters} aria-label="Filters">
        {draft.map((d, i) => (
          <div className="filter-row" key={i} role="group" aria-label={`Filter ${i + 1}`}>
            <select aria-label="Column" value={d.column} onChange={(e) => setDraft(draft.map((x, j) => (j === i ? { ...x, column: e.target.value } : x)))}>
              {columns.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
            <select
              aria-label="Operator"
              value={d.op}
              onChange={(e) => setDraft(draft.map((x, j) => (j === i ? { ...x, op: e.target.value as Operator } : x)))}
            >
              {OPERATORS.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
            {!NO_VALUE.includes(d.op) && (
              <input
                aria-label="Value"
                value={d.value}
                placeholder={d.op === 'IN' ? 'a, b, c' : 'value'}
                onChange={(e) => setDraft(draft.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
              />
            )}
            <button type="button" className="icon" aria-label={`Remove filter ${i + 1}`} onClick={() => setDraft(draft.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setDraft([...draft, { column: columns[0]?.name ?? '', op: '=', value: '' }])} disabled={columns.length === 0}>
          Add filter
        </button>
        {(draft.length > 0 || filters.length > 0) && (
          <button type="submit" className="primary">
            Apply filters
          </button>
        )}
        {sort.length > 0 && (
          <button
            type="button"
            onClick={() => {
              setSort([]);
              resetPaging();
            }}
          >
            Clear sort
          </button>
        )}
        <span className="muted small">
          Filters combine with AND. Click a column name to sort (again: descending, again: off); several columns sort in the order chosen.
        </span>
      </form>

      <ErrorText error={error} />
      {notice && (
        <p className="notice ok-notice small" role="status">
          {notice}
        </p>
      )}

      <div className="data-scroll" tabIndex={0} aria-label={`Rows of ${schema}.${relation.name}`} role="region">
        <table className="grid data-grid" aria-busy={loading}>
          <thead>
            <tr>
              {editable && (
                <th scope="col" className="row-tools">
                  <span className="sr-only">Row actions</span>
                </th>
              )}
              {columns.map((c) => {
                const s = sortOf(c.name);
                return (
                  <th scope="col" key={c.name} aria-sort={s && sort.length === 1 ? (s.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                    <button type="button" className="col-sort" onClick={() => cycleSort(c.name)} title="Sort: ascending, descending, off">
                      {c.name}
                      {c.primaryKeyPosition !== null && (
                        <>
                          <span className="pk" aria-hidden="true" title={`primary key, position ${c.primaryKeyPosition}`}>
                            PK
                          </span>
                          <span className="sr-only">, primary key</span>
                        </>
                      )}
                      {s && (
                        <>
                          <span className="sort-mark" aria-hidden="true">
                            {s.dir === 'asc' ? '▲' : '▼'}
                            {sort.length > 1 ? s.n : ''}
                          </span>
                          <span className="sr-only">
                            , sorted {s.dir === 'asc' ? 'ascending' : 'descending'}
                            {sort.length > 1 ? `, key ${s.n}` : ''}
                          </span>
                        </>
                      )}
                    </button>
                    <div className="col-type">
                      {c.type}
                      {c.nullable ? '' : ' not null'}
                    </div>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {page?.rows.map((r, i) => {
              const row = rowObject(r);
              const id = pk.length > 0 ? keyOf(row).id : String(i);
              const deleted = staged.deletes.has(id);
              const updated = staged.updates.get(id)?.values;
              return (
                <tr key={id} className={deleted ? 'staged-delete' : updated ? 'staged-update' : undefined}>
                  {editable && (
                    <td className="row-tools">
                      <button type="button" className="link" onClick={() => setEditing({ row })} disabled={deleted} aria-label={`Edit row ${i + 1 + first}`}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="link"
                        onClick={() => stageDelete(row)}
                        aria-label={`${deleted ? 'Keep' : 'Delete'} row ${i + 1 + first}`}
                      >
                        {deleted ? 'Keep' : 'Delete'}
                      </button>
                    </td>
                  )}
                  {page.columns.map((c, j) => (
                    <td key={c.name} className={updated && c.name in updated ? 'cell-changed' : undefined}>
                      <ValueCell
                        value={updated && c.name in updated ? updated[c.name] : r[j]}
                        type={c.type}
                        column={c.name}
                        loadFull={pk.length > 0 ? async () => (await webApi.cell(info.id, schema, relation.name, keyOf(row).key, c.name)).value : undefined}
                      />
                    </td>
                  ))}
                </tr>
              );
            })}
            {staged.inserts.map((v, i) => (
              <tr key={`new-${i}`} className="staged-insert">
                {editable && (
                  <td className="row-tools">
                    <button
                      type="button"
                      className="link"
                      onClick={() => setStaged({ ...staged, inserts: staged.inserts.filter((_, j) => j !== i) })}
                      aria-label={`Drop new row ${i + 1}`}
                    >
                      Drop
                    </button>
                  </td>
                )}
                {columns.map((c) => (
                  <td key={c.name}>{c.name in v ? <ValueCell value={v[c.name]} type={c.type} column={c.name} /> : <span className="v-null">DEFAULT</span>}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {page?.rows.length === 0 && <p className="muted small pad">No rows{filters.length > 0 ? ' match these filters' : ''}.</p>}
      </div>

      <div className="pager">
        <button type="button" disabled={cursors.length <= 1 || loading} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous
        </button>
        <span className="muted small">{page && page.rows.length > 0 ? `Rows ${first + 1}–${first + page.rows.length}` : ''}</span>
        <button type="button" disabled={!page?.next || loading} onClick={() => page?.next && setCursors([...cursors, page.next])}>
          Next
        </button>
      </div>

      {pending > 0 && (
        <section className="card staged" aria-labelledby="staged-title">
          <h3 id="staged-title">
            {pending} staged change{pending === 1 ? '' : 's'}: the statements that will run, in one transaction
          </h3>
          <pre className="sql-full" data-testid="staged-sql">
            {statements ? statements.join('\n') : '…'}
          </pre>
          <div className="actions left">
            <button type="button" className="primary" onClick={() => void apply()} disabled={applying || !statements}>
              {applying ? 'Applying…' : 'Apply changes'}
            </button>
            <button
              type="button"
              onClick={() => {
                setStaged(emptyStaged());
                setError(undefined);
              }}
            >
              Discard
            </button>
            <button type="button" onClick={() => setReload((n) => n + 1)}>
              Reload rows
            </button>
          </div>
        </section>
      )}

      {editing && (
        <RowEditor
          columns={columns}
          row={editing.row}
          staged={editing.row ? staged.updates.get(keyOf(editing.row).id)?.values : undefined}
          onClose={() => setEditing(undefined)}
          onSave={(values) => {
            stageEdit(editing.row, values);
            setEditing(undefined);
          }}
        />
      )}
    </div>
  );
}

interface Field {
  text: string;
  isNull: boolean;
  touched: boolean;
}

/** Edit a row (only changed fields are staged) or add one (untouched fields take the column's DEFAULT). */
function RowEditor({
  columns,
  row,
  staged,
  onClose,
  onSave,
}: {
  columns: Column[];
  row?: Row;
  staged?: Row;
  onClose: () => void;
  onSave: (values: Row) => void;
}) {
  const [fields, setFields] = useState<Record<string, Field>>(() =>
    Object.fromEntries(
      columns.map((c) => {
        const v = staged && c.name in staged ? staged[c.name] : row?.[c.name];
        const text = row ? fullText(v ?? null, c.type) : null;
        return [c.name, { text: text ?? '', isNull: row !== undefined && text === null, touched: false }];
      }),
    ),
  );
  const set = (name: string, f: Partial<Field>) => setFields({ ...fields, [name]: { ...fields[name], ...f, touched: true } });
  const save = (e: FormEvent) => {
    e.preventDefault();
    const values: Row = {};
    for (const c of columns) {
      const f = fields[c.name];
      if (f.touched) values[c.name] = editedValue(f.text, f.isNull, c.type);
    }
    onSave(values);
  };
  return (
    <Dialog title={row ? 'Edit row' : 'Add row'} onClose={onClose} wide>
      <form onSubmit={save} className="row-editor">
        <p className="muted small">
          {row ? 'Only the fields you change are updated.' : 'Fields you leave untouched take the column default.'} An empty field is the empty string; tick
          NULL for NULL.
        </p>
        {columns.map((c) => {
          const f = fields[c.name];
          const long = f.text.length > 60 || f.text.includes('\n');
          return (
            <div className="field" key={c.name}>
              <label htmlFor={`f-${c.name}`}>
                {c.name}{' '}
                <span className="muted small">
                  {c.type}
                  {c.primaryKeyPosition !== null ? ' · primary key' : ''}
                </span>
              </label>
              <div className="field-row">
                {long ? (
                  <textarea id={`f-${c.name}`} rows={4} value={f.text} disabled={f.isNull} onChange={(e) => set(c.name, { text: e.target.value })} />
                ) : (
                  <input
                    id={`f-${c.name}`}
                    value={f.text}
                    disabled={f.isNull}
                    placeholder={!row && !f.touched ? 'DEFAULT' : ''}
                    onChange={(e) => set(c.name, { text: e.target.value })}
                  />
                )}
                <label className="check">
                  <input type="checkbox" checked={f.isNull} onChange={(e) => set(c.name, { isNull: e.target.checked })} />
                  NULL
                </label>
              </div>
            </div>
          );
        })}
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Stage {row ? 'update' : 'insert'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
