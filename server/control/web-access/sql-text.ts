/**
 * The only ways a name or a value becomes SQL text in Web Access (issue 12, "never spliced"):
 * identifiers are double-quoted with embedded quotes doubled, values are bound parameters.
 * `displayLiteral` renders a value for the preview of staged changes only (never executed).
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

/** PostgreSQL identifiers cannot hold NUL; anything else is quoted and taken literally. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0'))
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'a schema, table or column name must be non-empty and without NUL characters');
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A standard-conforming string literal (for display in previews). */
export function displayLiteral(value: string | null): string {
  if (value === null) return 'NULL';
  return `'${value.replace(/'/g, "''")}'`;
}

/** Collects bound parameters: `add(v)` returns `$n`. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
