/** How errors become HTTP responses: `{ error: { code, message, field? } }` with a status per code. */
import { ErrorCodes, GatehouseError, InvalidInputError, notFound, type ErrorCode } from '../../../proxy-core/src/errors.ts';

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
  [ErrorCodes.CONFIG]: 503,
  [ErrorCodes.MFA_REQUIRED]: 403,
  [ErrorCodes.MFA_INVALID]: 401,
  [ErrorCodes.LOCKED_OUT]: 429,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.USER_DISABLED]: 401,
  [ErrorCodes.INVITATION_INVALID]: 400,
  [ErrorCodes.POLICY_DENIED]: 403,
  [ErrorCodes.APPROVAL_REQUIRED]: 403,
  [ErrorCodes.SELF_APPROVAL]: 403,
  [ErrorCodes.REQUEST_NOT_PENDING]: 409,
  [ErrorCodes.CSRF]: 403,
  [ErrorCodes.WEB_SESSION_LIMIT]: 429,
  [ErrorCodes.ROW_CHANGED]: 409,
  [ErrorCodes.QUERY_FAILED]: 422,
  [ErrorCodes.READ_ONLY]: 409,
  [ErrorCodes.WEB_SESSION_ELSEWHERE]: 421,
  [ErrorCodes.DIRECT_STREAM_UNAVAILABLE]: 421,
  /** Web Access: the database refused the web session's connection (its SQLSTATE is in the message). */
  [ErrorCodes.UPSTREAM_CONNECT]: 502,
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export { InvalidInputError, notFound };

/** The HTTP status for an error code, or undefined for codes that are not a caller's error (500). */
export function httpStatusOf(code: ErrorCode): number | undefined {
  return STATUS[code];
}

/**
 * `{ error: { code, message, field? } }`, with an error's other details (`challenge` for
 * MFA_REQUIRED, `approval` for APPROVAL_REQUIRED, `retryAfterSeconds` and its header) next to `error`.
 */
export function errorResponse(err: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof GatehouseError) {
    const { field, ...extra } = err.details ?? {};
    const retryAfter = extra.retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(extra.retryAfterSeconds) } } : {};
    return {
      status: STATUS[err.code] ?? 500,
      body: { ...extra, error: { code: err.code, message: err.message, ...(field !== undefined && { field }) } },
      ...retryAfter,
    };
  }
  return { status: 500, body: { error: { code: ErrorCodes.INTERNAL, message: 'internal error' } } };
}
