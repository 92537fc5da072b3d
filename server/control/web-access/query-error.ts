/**
 * A database error as the browser gets it: the SQLSTATE, the server's message, and its
 * position, detail and hint when it gave them. Over HTTP: QUERY_FAILED (422) with `sqlstate`.
 */
import { ErrorCodes, GatehouseError } from "../../../proxy-core/src/errors.ts";
import { ErrorWithBody } from "../api/errors.ts";

export interface DatabaseErrorFields {
  code: string;
  message: string;
  position?: number;
  detail?: string;
  hint?: string;
}

/** The fields of a PostgreSQL ErrorResponse as node-postgres reports it; undefined for other errors. */
export function databaseErrorFields(
  err: unknown,
): DatabaseErrorFields | undefined {
  const e = err as {
    code?: unknown;
    message?: unknown;
    position?: unknown;
    detail?: unknown;
    hint?: unknown;
    severity?: unknown;
  } | null;
  if (
    !e ||
    typeof e.code !== "string" ||
    !/^[0-9A-Z]{5}$/.test(e.code) ||
    typeof e.message !== "string" ||
    e.severity === undefined
  )
    return undefined;
  return {
    code: e.code,
    message: e.message,
    ...(typeof e.position === "string" &&
      e.position !== "" && { position: Number(e.position) }),
    ...(typeof e.detail === "string" && { detail: e.detail }),
    ...(typeof e.hint === "string" && { hint: e.hint }),
  };
}

/** Database errors → QUERY_FAILED with their fields; Gatehouse errors as they are; the rest rethrown. */
export function toHttpError(err: unknown): unknown {
  if (err instanceof GatehouseError) return err;
  const fields = databaseErrorFields(err);
  if (!fields) return err;
  const { code, message, ...rest } = fields;
  return new ErrorWithBody(
    ErrorCodes.QUERY_FAILED,
    `the database refused the statement: ${message}`,
    { sqlstate: code, ...rest },
  );
}
