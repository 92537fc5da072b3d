/** How errors become HTTP responses: `{ error: { code, message, field? } }` with a status per code. */
import { ErrorCodes, GatehouseError, type ErrorCode } from '../../../proxy-core/src/errors.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.INVALID_INPUT]: 400,
  [ErrorCodes.UNAUTHENTICATED]: 401,
  [ErrorCodes.TOKEN_EXPIRED]: 401,
  [ErrorCodes.INVALID_CREDENTIALS]: 401,
  [ErrorCodes.ENROLLMENT_TOKEN_INVALID]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.SESSION_EXPIRED]: 410,
  [ErrorCodes.SESSION_ENDED]: 410,
  [ErrorCodes.SESSION_REVOKED]: 410,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCodes.GATEWAY_UNAVAILABLE]: 503,
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** A validation failure naming the offending field. */
export class InvalidInputError extends GatehouseError {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(ErrorCodes.INVALID_INPUT, message);
    this.field = field;
  }
}

export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof GatehouseError) {
    const field = err instanceof InvalidInputError && err.field !== undefined ? { field: err.field } : {};
    return { status: STATUS[err.code] ?? 500, body: { error: { code: err.code, message: err.message, ...field } } };
  }
  return { status: 500, body: { error: { code: ErrorCodes.INTERNAL, message: 'internal error' } } };
}

export function notFound(what: string): GatehouseError {
  return new GatehouseError(ErrorCodes.NOT_FOUND, `${what} not found`);
}
