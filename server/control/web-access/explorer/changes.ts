/**
 * Staged edits of a table with a primary key: inserts, updates and deletes become parameterized
 * statements, run in one transaction. An update or delete only touches its row when every
 * column still holds the value the browser read (`original`); otherwise nothing is applied and
 * ROW_CHANGED names the row. `preview` renders the same statements with the values inlined as
 * literals, for people to read (never executed).
 */
import type pg from 'pg';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { bindValue, isJsonType } from '../cells.ts';
import { displayLiteral, Params, qualifiedName, quoteIdent } from '../sql-text.ts';
import type { ColumnInfo, RelationInfo } from './catalog.ts';
import { columnOf } from './rows.ts';

type Values = Record<string, unknown>;
export type Change =
  { op: 'insert'; values: Values } | { op: 'update'; key: Values; values: Values; original: Values } | { op: 'delete'; key: Values; original: Values };

interface Statement {
  text: string;
  values: unknown[];
  /** What the statement must affect: exactly one row (update, delete) or any. */
  expectOne: boolean;
  /** The row's primary key (update, delete), named in ROW_CHANGED. */
  key?: Values;
}

export function planChanges(rel: RelationInfo, changes: Change[]): Statement[] {
  if (!rel.editable) throw new GatehouseError(ErrorCodes.READ_ONLY, `${rel.schema}.${rel.name} is read-only: ${rel.readOnlyReason ?? 'not editable'}`);
  return changes.map((change) => planOne(rel, change));
}

function planOne(rel: RelationInfo, change: Change): Statement {
  const table = qualifiedName(rel.schema, rel.name);
  const params = new Params();
  if (change.op === 'insert') {
    const entries = Object.entries(change.values).map(([name, value]) => [columnOf(rel, name), value] as const);
    if (entries.length === 0)
      return {
        text: `insert into ${table} default values`,
        values: [],
        expectOne: false,
      };
    const cols = entries.map(([c]) => quoteIdent(c.name)).join(', ');
    const vals = entries.map(([c, v]) => params.add(bindValue(v, c.typeOid))).join(', ');
    return {
      text: `insert into ${table} (${cols}) values (${vals})`,
      values: params.values,
      expectOne: false,
    };
  }
  const set =
    change.op === 'update'
      ? Object.entries(change.values).map(([name, value]) => {
          const c = columnOf(rel, name);
          return `${quoteIdent(c.name)} = ${params.add(bindValue(value, c.typeOid))}`;
        })
      : [];
  if (change.op === 'update' && set.length === 0) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'an update needs at least one value to set');
  const where = [...keyConditions(rel, change.key, params), ...originalConditions(rel, change.original, params)].join(' and ');
  const text = change.op === 'update' ? `update ${table} set ${set.join(', ')} where ${where}` : `delete from ${table} where ${where}`;
  return { text, values: params.values, expectOne: true, key: change.key };
}

function keyConditions(rel: RelationInfo, key: Values, params: Params): string[] {
  return rel.primaryKey.map((pk) => {
    if (!(pk.name in key) || key[pk.name] === null)
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, `key: the primary key column ${JSON.stringify(pk.name)} is missing`);
    return `${quoteIdent(pk.name)} = ${params.add(bindValue(key[pk.name], pk.typeOid))}`;
  });
}

/** Every column read (except cut-short cells) must still hold its value: else the row changed. */
function originalConditions(rel: RelationInfo, original: Values, params: Params): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(original)) {
    const column = columnOf(rel, name);
    if (isTruncated(value)) continue;
    out.push(sameValue(column, value, params));
  }
  return out;
}

function sameValue(column: ColumnInfo, value: unknown, params: Params): string {
  const col = quoteIdent(column.name);
  if (value === null) return `${col} is null`;
  // json has no equality operator; jsonb equality ignores formatting and key order.
  if (isJsonType(column.typeOid)) return `${col}::jsonb = ${params.add(bindValue(value, column.typeOid))}::jsonb`;
  return `${col} is not distinct from ${params.add(bindValue(value, column.typeOid))}`;
}

function isTruncated(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { truncated?: unknown }).truncated === true;
}

/** The statements with their values inlined as literals (preview only). */
export function previewStatements(statements: Statement[]): string[] {
  return statements.map((s) => s.text.replace(/\$(\d+)/g, (_m, n: string) => displayLiteral(literalText(s.values[Number(n) - 1]))) + ';');
}

function literalText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return `{${value.map((v) => (v === null ? 'NULL' : `"${String(v as string).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Runs the statements in one transaction; ROW_CHANGED (nothing applied) when a row moved on. */
export async function applyChanges(client: pg.Client, statements: Statement[]): Promise<{ applied: number }> {
  await client.query('begin');
  try {
    for (const [index, s] of statements.entries()) {
      const result = await client.query({
        text: s.text,
        values: s.values,
        rowMode: 'array',
      });
      if (s.expectOne && result.rowCount !== 1) {
        throw new GatehouseError(
          ErrorCodes.ROW_CHANGED,
          `change ${index + 1} was not applied: the row was changed or deleted by someone else since it was read; reload and stage it again (nothing was applied)`,
          { details: { change: index, key: s.key } },
        );
      }
    }
    await client.query('commit');
    return { applied: statements.length };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}
