import { ErrorCodes, GatehouseError, type ErrorCode } from '../errors.ts';
import { parseErrorFields, type ErrorFields } from '../protocol/backend/error-response.ts';
import { INVALID_AUTHORIZATION, INVALID_PASSWORD } from '../protocol/sqlstate.ts';

/**
 * A failure to reach, secure or authenticate to the database. Carries what a PostgreSQL
 * client should see: a SQLSTATE, a severity, and the server's own fields when it sent an
 * ErrorResponse (28P01 wrong password, 3D000 unknown database, …).
 */
export class UpstreamError extends GatehouseError {
  readonly sqlstate: string;
  readonly severity: string;
  readonly serverFields: ErrorFields | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { sqlstate: string; severity?: string; serverFields?: ErrorFields; detail?: string; hint?: string; cause?: unknown },
  ) {
    super(code, message, { cause: opts.cause });
    this.name = 'UpstreamError';
    this.sqlstate = opts.sqlstate;
    this.severity = opts.severity ?? 'FATAL';
    this.serverFields = opts.serverFields;
    this.detail = opts.detail ?? opts.serverFields?.detail;
    this.hint = opts.hint ?? opts.serverFields?.hint;
  }

  /** From the payload of an ErrorResponse the server sent during startup. */
  static fromServer(payload: Buffer): UpstreamError {
    const fields = parseErrorFields(payload);
    const isAuth = fields.code === INVALID_PASSWORD || fields.code === INVALID_AUTHORIZATION;
    return new UpstreamError(isAuth ? ErrorCodes.UPSTREAM_AUTH : ErrorCodes.UPSTREAM_CONNECT, fields.message, {
      sqlstate: fields.code || 'XX000',
      severity: fields.severityNonLocalized ?? fields.severity,
      serverFields: fields,
    });
  }
}

export function isUpstreamError(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError;
}
