/**
 * A page of a table or view: filters (combined with AND), sort on several columns, keyset
 * paging on the sort + primary key where there is one (else OFFSET), and a total count that is
 * exact up to EXACT_COUNT_LIMIT and an estimate above it. Column names are checked against the
 * relation and quoted; every value is a bound parameter.
 */
import type pg from 'pg';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { bindValue, encodeCell, type Cell } from '../cells.ts';
import { Params, qualifiedName, quoteIdent } from '../sql-text.ts';
import type { ColumnInfo, RelationInfo } from './catalog.ts';

/** Above this many matching rows the total is an estimate. */
export const EXACT_COUNT_LIMIT = 10_000;

export const FILTER_OPS = ['=', '<>', '<', '>', '<=', '>=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL', 'IN'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface Filter {
  column: string;
  op: FilterOp;
  value?: unknown;
}
export interface SortKey {
  column: string;
  direction: 'asc' | 'desc';
}

export interface RowsRequest {
  filters: Filter[];
  sort: SortKey[];
  limit: number;
  after?: string;
}

export interface RowsPage {
  columns: Array<{
    name: string;
    type: string;
    nullable: boolean;
    primaryKeyPosition: number | null;
  }>;
  rows: Cell[][];
  next?: string;
  total: { count: number; exact: boolean };
}

/** The WHERE clause (without the keyword; 'true' when empty) for the filters. */
export function whereClause(rel: RelationInfo, filters: Filter[], params: Params): string {
  if (filters.length === 0) return 'true';
  return filters.map((f) => filterSql(columnOf(rel, f.column), f, params)).join(' and ');
}

function filterSql(column: ColumnInfo, f: Filter, params: Params): string {
  const col = quoteIdent(column.name);
  switch (f.op) {
    case 'IS NULL':
      return `${col} is null`;
    case 'IS NOT NULL':
      return `${col} is not null`;
    case 'LIKE':
    case 'ILIKE':
      return `${col}::text ${f.op.toLowerCase()} ${params.add(textValue(f))}`;
    case 'IN': {
      if (!Array.isArray(f.value) || f.value.length === 0)
        throw new GatehouseError(ErrorCodes.INVALID_INPUT, `filter on ${JSON.stringify(f.column)}: IN needs a non-empty array value`);
      return `${col} = any(${params.add(f.value.map((v) => bindValue(v, column.typeOid)))})`;
    }
    default:
      if (f.value === undefined || f.value === null)
        throw new GatehouseError(ErrorCodes.INVALID_INPUT, `filter on ${JSON.stringify(f.column)}: ${f.op} needs a value (use IS NULL for NULL)`);
      return `${col} ${f.op} ${params.add(bindValue(f.value, column.typeOid))}`;
  }
}

function textValue(f: Filter): string {
  if (typeof f.value !== 'string') throw new GatehouseError(ErrorCodes.INVALID_INPUT, `filter on ${JSON.stringify(f.column)}: ${f.op} needs a text pattern`);
  return f.value;
}

export function columnOf(rel: RelationInfo, name: string): ColumnInfo {
  const column = rel.columns.find((c) => c.name === name);
  if (!column) throw new GatehouseError(ErrorCodes.INVALID_INPUT, `no column ${JSON.stringify(name)} in ${rel.schema}.${rel.name}`);
  return column;
}

/** The sort the page is ordered by: the requested keys, then the primary key for a total order. */
export function effectiveSort(rel: RelationInfo, sort: SortKey[]): Array<SortKey & { column: string; info: ColumnInfo }> {
  const keys = sort.map((s) => ({ ...s, info: columnOf(rel, s.column) }));
  for (const pk of rel.primaryKey) if (!keys.some((k) => k.column === pk.name)) keys.push({ column: pk.name, direction: 'asc', info: pk });
  return keys;
}

/** Relations are read `from <qualified name> as t`: a qualified ORDER BY never hits an output column. */
export const REL_ALIAS = 't';

export function orderByClause(keys: Array<SortKey & { info: ColumnInfo }>): string {
  return keys.length === 0 ? '' : ` order by ${keys.map((k) => `${REL_ALIAS}.${quoteIdent(k.info.name)} ${k.direction}`).join(', ')}`;
}

/** The cursor: the sort keys' values of the last row (keyset) or an offset (no primary key). */
type Cursor = { k: Array<string | null> } | { o: number };

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string, keyCount: number): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const value = parsed as { k?: unknown; o?: unknown } | undefined;
  if (value && Array.isArray(value.k) && value.k.length === keyCount && value.k.every((v) => v === null || typeof v === 'string'))
    return { k: value.k as Array<string | null> };
  if (value && typeof value.o === 'number' && Number.isInteger(value.o) && value.o >= 0) return { o: value.o };
  throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'after: not a cursor of this view (the sort changed?); start from the first page');
}

/**
 * Rows strictly after `values` in the order of `keys` (ASC sorts NULLs last, DESC first, as
 * PostgreSQL does by default): c1 beyond v1, or c1 equal and the rest after.
 */
function keysetClause(keys: Array<SortKey & { info: ColumnInfo }>, values: Array<string | null>, params: Params): string {
  const parts = (i: number): string => {
    if (i === keys.length) return 'false';
    const col = quoteIdent(keys[i].info.name);
    const v = values[i];
    const asc = keys[i].direction === 'asc';
    const beyond = v === null ? (asc ? 'false' : `${col} is not null`) : asc ? `(${col} > ${params.add(v)} or ${col} is null)` : `${col} < ${params.add(v)}`;
    if (i === keys.length - 1) return beyond;
    const equal = v === null ? `${col} is null` : `${col} = ${params.add(v)}`;
    return `(${beyond} or (${equal} and ${parts(i + 1)}))`;
  };
  return parts(0);
}

export async function readRows(client: pg.Client, rel: RelationInfo, request: RowsRequest, cellLimit: number): Promise<RowsPage> {
  const params = new Params();
  const where = whereClause(rel, request.filters, params);
  const countParams = [...params.values];
  const keys = effectiveSort(rel, request.sort);
  const keyset = rel.primaryKey.length > 0;
  const cursor = request.after === undefined ? undefined : decodeCursor(request.after, keys.length);
  let condition = where;
  let offset = 0;
  if (cursor && 'k' in cursor && keyset) condition = `(${where}) and ${keysetClause(keys, cursor.k, params)}`;
  else if (cursor && 'o' in cursor && !keyset) offset = cursor.o;
  else if (cursor) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'after: not a cursor of this view; start from the first page');
  const select = rel.columns.map((c) => quoteIdent(c.name)).join(', ');
  const keyColumns = keys.map((k) => `${quoteIdent(k.info.name)}::text`).join(', ');
  const text = `select ${select}${keyset ? `, ${keyColumns}` : ''} from ${qualifiedName(rel.schema, rel.name)} as ${REL_ALIAS} where ${condition}${orderByClause(keys)} limit ${request.limit + 1}${offset > 0 ? ` offset ${offset}` : ''}`;
  const result = await client.query<Array<string | null>>({
    text,
    values: params.values,
    rowMode: 'array',
  });
  const more = result.rows.length > request.limit;
  const page = more ? result.rows.slice(0, request.limit) : result.rows;
  const width = rel.columns.length;
  const rows = page.map((row) => rel.columns.map((c, i) => encodeCell(row[i], c.typeOid, cellLimit)));
  let next: string | undefined;
  if (more) next = encodeCursor(keyset ? { k: page[page.length - 1].slice(width) } : { o: offset + request.limit });
  const total = await countRows(client, rel, where, countParams, request.filters.length > 0);
  return {
    columns: rel.columns.map((c) => ({
      name: c.name,
      type: c.type,
      nullable: c.nullable,
      primaryKeyPosition: c.primaryKeyPosition,
    })),
    rows,
    ...(next !== undefined && { next }),
    total,
  };
}

/** Exact up to EXACT_COUNT_LIMIT; above it the planner's estimate (or reltuples without filters). */
async function countRows(
  client: pg.Client,
  rel: RelationInfo,
  where: string,
  values: unknown[],
  filtered: boolean,
): Promise<{ count: number; exact: boolean }> {
  // Unfiltered and far over the threshold by the statistics: no need to scan to know it is an estimate.
  if (!filtered && rel.estimatedRows !== null && rel.estimatedRows > 2 * EXACT_COUNT_LIMIT) return { count: rel.estimatedRows, exact: false };
  const from = `from ${qualifiedName(rel.schema, rel.name)} where ${where}`;
  const counted = await client.query<string[]>({
    text: `select count(*)::text from (select 1 ${from} limit ${EXACT_COUNT_LIMIT + 1}) s`,
    values,
    rowMode: 'array',
  });
  const count = Number(counted.rows[0][0]);
  if (count <= EXACT_COUNT_LIMIT) return { count, exact: true };
  if (!filtered && rel.estimatedRows !== null && rel.estimatedRows > EXACT_COUNT_LIMIT) return { count: rel.estimatedRows, exact: false };
  const plan = await client.query<string[]>({
    text: `explain (format json) select 1 ${from}`,
    values,
    rowMode: 'array',
  });
  const estimate = (JSON.parse(plan.rows[0][0]) as Array<{ Plan: { 'Plan Rows': number } }>)[0].Plan['Plan Rows'];
  return { count: Math.max(estimate, EXACT_COUNT_LIMIT + 1), exact: false };
}

/** One whole cell (never cut) of the row with this primary key: the grid's "show all" of a long value. */
export async function readCell(client: pg.Client, rel: RelationInfo, key: Record<string, unknown>, column: string): Promise<{ value: Cell }> {
  if (rel.primaryKey.length === 0)
    throw new GatehouseError(
      ErrorCodes.INVALID_INPUT,
      `${rel.schema}.${rel.name} has no primary key: a single cell cannot be addressed; export the view instead`,
    );
  const info = columnOf(rel, column);
  const params = new Params();
  const where = rel.primaryKey
    .map((pk) => {
      if (!(pk.name in key) || key[pk.name] === null)
        throw new GatehouseError(ErrorCodes.INVALID_INPUT, `key: the primary key column ${JSON.stringify(pk.name)} is missing`);
      return `${quoteIdent(pk.name)} = ${params.add(bindValue(key[pk.name], pk.typeOid))}`;
    })
    .join(' and ');
  const result = await client.query<Array<string | null>>({
    text: `select ${quoteIdent(info.name)} from ${qualifiedName(rel.schema, rel.name)} where ${where}`,
    values: params.values,
    rowMode: 'array',
  });
  const row = result.rows[0];
  if (!row) throw new GatehouseError(ErrorCodes.NOT_FOUND, 'no such row (it may have been deleted); reload the table');
  return { value: encodeCell(row[0], info.typeOid, null) };
}
