/**
 * The Data Explorer: the schema tree (schemas, tables, views, materialized views with their
 * estimated row counts) and the open table.
 */
import { useEffect, useState } from 'react';
import { ErrorText } from '../components/ui.tsx';
import { uiError, type UiError } from '../store/session.ts';
import { webApi, type Relation, type SchemaEntry, type WebSessionInfo } from './client.ts';
import { TableView } from './TableView.tsx';
import type { EndedCheck } from './store.ts';
import { estimate } from './values.ts';

const KIND_LABEL: Record<Relation['kind'], string> = { table: 'table', view: 'view', materialized_view: 'materialized view' };

export function DataExplorer({ info, onError }: { info: WebSessionInfo; onError: EndedCheck }) {
  const [schemas, setSchemas] = useState<SchemaEntry[]>();
  const [error, setError] = useState<UiError>();
  const [open, setOpen] = useState<{ schema: string; relation: Relation }>();
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});

  useEffect(() => {
    webApi.schema(info.id).then(
      (r) => {
        setSchemas(r.schemas);
        const first = r.schemas.find((s) => s.name === 'public') ?? r.schemas[0];
        setCollapsed(Object.fromEntries(r.schemas.map((s) => [s.name, s !== first])));
      },
      (err) => {
        if (!onError(err)) setError(uiError(err));
      },
    );
  }, [info.id, onError]);

  return (
    <div className="explorer">
      <nav className="schema-tree card" aria-label="Schemas">
        {!schemas && !error && <p className="muted small">Loading…</p>}
        <ErrorText error={error} />
        {schemas?.length === 0 && <p className="muted small">No schema this account can see.</p>}
        <ul className="tree">
          {schemas?.map((s) => (
            <li key={s.name}>
              <button
                type="button"
                className="tree-schema"
                aria-expanded={!collapsed[s.name]}
                onClick={() => setCollapsed({ ...collapsed, [s.name]: !collapsed[s.name] })}
              >
                <span aria-hidden="true">{collapsed[s.name] ? '▸' : '▾'}</span> {s.name} <span className="muted small">{s.relations.length}</span>
              </button>
              {!collapsed[s.name] && (
                <ul>
                  {s.relations.map((r) => {
                    const here = open?.schema === s.name && open.relation.name === r.name;
                    return (
                      <li key={r.name}>
                        <button
                          type="button"
                          className={`tree-rel${here ? ' current' : ''}`}
                          aria-current={here ? 'true' : undefined}
                          data-relation={`${s.name}.${r.name}`}
                          onClick={() => setOpen({ schema: s.name, relation: r })}
                        >
                          <span className={`kind kind-${r.kind}`} aria-hidden="true">
                            {r.kind === 'table' ? 'T' : r.kind === 'view' ? 'V' : 'M'}
                          </span>
                          <span className="rel-name">{r.name}</span>
                          <span className="sr-only">
                            , {KIND_LABEL[r.kind]}, about {estimate(r.estimatedRows)} rows
                          </span>
                          <span className="muted small est" aria-hidden="true">
                            ≈{estimate(r.estimatedRows)}
                          </span>
                        </button>
                      </li>
                    );
                  })}
                </ul>
              )}
            </li>
          ))}
        </ul>
      </nav>
      <div className="table-pane">
        {open ? (
          <TableView key={`${open.schema}.${open.relation.name}`} info={info} schema={open.schema} relation={open.relation} onError={onError} />
        ) : (
          <p className="empty">Pick a table or view on the left.</p>
        )}
      </div>
    </div>
  );
}
