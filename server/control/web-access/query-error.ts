/**
 * A database error as the browser gets it: the SQLSTATE, the server's message, and its
 * position, detail and hint when it gave them. Over HTTP: QUERY_FAILED (422) with `sqlstate`.
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { ErrorWithBody } from '../api/errors.ts';

export interface DatabaseErrorFields {
  code: string;
  message: string;
  position?: number;
  detail?: string;
  hint?: string;
}

/** The fields of a PostgreSQL ErrorResponse as node-postgres reports it; undefined for other errors. */
export function databaseErrorFields(err: unknown): DatabaseErrorFields | undefined {
  const e = err as {
    code?: unknown;
    message?: unknown;
    position?: unknown;
    detail?: unknown;
    hint?: unknown;
    severity?: unknown;
  } | null;
  if (!e || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code) || typeof e.message !== 'string' || e.severity === undefined) return undefined;
  return {
    code: e.code,
    message: e.message,
    ...(typeof e.position === 'string' && e.position !== '' && { position: Number(e.position) }),
    ...(typeof e.detail === 'string' && { detail: e.detail }),
    ...(typeof e.hint === 'string' && { hint: e.hint }),
  };
}

/** PostgreSQL's query_canceled, which statement_timeout raises. */
const QUERY_CANCELED = '57014';

/**
 * Database errors → QUERY_FAILED with their fields (a statement_timeout names the Web Access
 * limit: explorer connections start with it and cannot change it); Gatehouse errors as they
 * are; the rest rethrown.
 */
export function toHttpError(err: unknown, statementTimeoutMs?: number): unknown {
  if (err instanceof GatehouseError) return err;
  const fields = databaseErrorFields(err);
  if (!fields) return err;
  const { code, message, ...rest } = fields;
  const timedOut = code === QUERY_CANCELED && statementTimeoutMs !== undefined && /statement timeout/.test(message);
  const text = timedOut
    ? `the statement ran longer than ${statementTimeoutMs} ms, the Web Access statement timeout (--web-statement-timeout), and was cancelled`
    : `the database refused the statement: ${message}`;
  return new ErrorWithBody(ErrorCodes.QUERY_FAILED, text, { sqlstate: code, ...rest });
}
