/**
 * What the Data Explorer and the terminal's completion read from the database's catalog:
 * the schema tree, a relation's columns (with its primary key and whether it can be edited),
 * and every schema/table/column the account can see. Names are bound parameters here.
 */
import type pg from 'pg';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';

export type RelationKind = 'table' | 'view' | 'materialized_view';

export interface RelationSummary {
  name: string;
  kind: RelationKind;
  /** pg_class.reltuples; null when never analyzed. */
  estimatedRows: number | null;
  hasPrimaryKey: boolean;
}

export interface ColumnInfo {
  name: string;
  /** format_type(): `integer`, `character varying(40)`, `timestamp with time zone`, … */
  type: string;
  typeOid: number;
  nullable: boolean;
  /** 1-based position in the primary key, or null. */
  primaryKeyPosition: number | null;
  /** Array types bind as arrays, json as JSON text (cells.ts bindValue). */
  isArray: boolean;
}

export interface RelationInfo {
  schema: string;
  name: string;
  kind: RelationKind;
  columns: ColumnInfo[];
  /** Primary key columns in key order (empty without one). */
  primaryKey: ColumnInfo[];
  editable: boolean;
  readOnlyReason?: string;
  estimatedRows: number | null;
}

const SYSTEM_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%'`;
const KIND_OF: Record<string, RelationKind> = {
  r: 'table',
  p: 'table',
  f: 'table',
  v: 'view',
  m: 'materialized_view',
};

export async function schemaTree(client: pg.Client): Promise<{ schemas: Array<{ name: string; relations: RelationSummary[] }> }> {
  const namespaces = await client.query<string[]>({
    text: `select n.nspname from pg_namespace n where ${SYSTEM_SCHEMAS} and has_schema_privilege(n.oid, 'USAGE') order by 1`,
    rowMode: 'array',
  });
  const relations = await client.query<string[]>({
    text: `select n.nspname, c.relname, c.relkind, c.reltuples::bigint::text,
             exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary)::text
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relkind in ('r', 'p', 'f', 'v', 'm') and not c.relispartition and ${SYSTEM_SCHEMAS} and has_schema_privilege(n.oid, 'USAGE')
           order by 1, 2`,
    rowMode: 'array',
  });
  const bySchema = new Map<string, RelationSummary[]>(namespaces.rows.map(([name]) => [name, []]));
  for (const [schema, name, relkind, reltuples, hasPk] of relations.rows) {
    const estimate = Number(reltuples);
    bySchema.get(schema)?.push({
      name,
      kind: KIND_OF[relkind],
      estimatedRows: estimate < 0 ? null : estimate,
      hasPrimaryKey: hasPk === 'true',
    });
  }
  return {
    schemas: [...bySchema].map(([name, rels]) => ({ name, relations: rels })),
  };
}

/** The relation with its columns; NOT_FOUND when it does not exist or is not visible. */
export async function describeRelation(client: pg.Client, schema: string, table: string): Promise<RelationInfo> {
  const rel = await client.query<string[]>({
    text: `select c.oid::text, c.relkind, c.reltuples::bigint::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p', 'f', 'v', 'm')`,
    values: [schema, table],
    rowMode: 'array',
  });
  const found = rel.rows[0];
  if (!found) throw new GatehouseError(ErrorCodes.NOT_FOUND, `no table or view ${JSON.stringify(table)} in schema ${JSON.stringify(schema)}`);
  const [oid, relkind, reltuples] = found;
  const cols = await client.query<string[]>({
    text: `select a.attname, format_type(a.atttypid, a.atttypmod), (not a.attnotnull)::text, a.atttypid::text,
             array_position(i.indkey::int2[], a.attnum)::text, (t.typcategory = 'A')::text
           from pg_attribute a
           join pg_type t on t.oid = a.atttypid
           left join pg_index i on i.indrelid = a.attrelid and i.indisprimary
           where a.attrelid = $1::oid and a.attnum > 0 and not a.attisdropped
           order by a.attnum`,
    values: [oid],
    rowMode: 'array',
  });
  const columns: ColumnInfo[] = cols.rows.map(([name, type, nullable, typeOid, pkPos, isArray]) => ({
    name,
    type,
    typeOid: Number(typeOid),
    nullable: nullable === 'true',
    primaryKeyPosition: pkPos === null ? null : Number(pkPos) + 1,
    isArray: isArray === 'true',
  }));
  // indkey is 0-based as int2vector, array_position over int2[] is 1-based from the start: normalize.
  const positions = columns.map((c) => c.primaryKeyPosition).filter((p): p is number => p !== null);
  const base = positions.length > 0 ? Math.min(...positions) : 1;
  for (const c of columns) if (c.primaryKeyPosition !== null) c.primaryKeyPosition = c.primaryKeyPosition - base + 1;
  const primaryKey = columns.filter((c) => c.primaryKeyPosition !== null).sort((a, b) => a.primaryKeyPosition! - b.primaryKeyPosition!);
  const kind = KIND_OF[relkind];
  const readOnlyReason =
    kind === 'view'
      ? 'this is a view: Web Access edits tables only'
      : kind === 'materialized_view'
        ? 'this is a materialized view: it changes only when refreshed'
        : relkind === 'f'
          ? 'this is a foreign table: Web Access edits local tables only'
          : primaryKey.length === 0
            ? 'this table has no primary key, so an edited row cannot be told apart from its duplicates'
            : undefined;
  const estimate = Number(reltuples);
  return {
    schema,
    name: table,
    kind,
    columns,
    primaryKey,
    editable: readOnlyReason === undefined,
    ...(readOnlyReason !== undefined && { readOnlyReason }),
    estimatedRows: estimate < 0 ? null : estimate,
  };
}

/** Schemas, tables and columns for the terminal's completion. */
export async function completionCatalog(client: pg.Client): Promise<{
  schemas: Array<{
    name: string;
    tables: Array<{
      name: string;
      kind: RelationKind;
      columns: Array<{ name: string; type: string }>;
    }>;
  }>;
}> {
  const result = await client.query<string[]>({
    text: `select n.nspname, c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod)
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           where c.relkind in ('r', 'p', 'f', 'v', 'm') and ${SYSTEM_SCHEMAS} and has_schema_privilege(n.oid, 'USAGE')
           order by 1, 2, a.attnum
           limit 50000`,
    rowMode: 'array',
  });
  type Entry = {
    name: string;
    kind: RelationKind;
    columns: Array<{ name: string; type: string }>;
  };
  const schemas = new Map<string, Map<string, Entry>>();
  for (const [schema, table, relkind, column, type] of result.rows) {
    let tables = schemas.get(schema);
    if (!tables) schemas.set(schema, (tables = new Map<string, Entry>()));
    let entry = tables.get(table);
    if (!entry) tables.set(table, (entry = { name: table, kind: KIND_OF[relkind], columns: [] }));
    if (column !== null) entry.columns.push({ name: column, type });
  }
  return {
    schemas: [...schemas].map(([name, tables]) => ({
      name,
      tables: [...tables.values()],
    })),
  };
}
