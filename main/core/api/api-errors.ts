import { ErrorCodes, GatehouseError, type ErrorCode } from '../../../proxy-core/src/errors.ts';

/** An error answer from the control plane: the server's code and message, plus the status. */
export class ApiError extends GatehouseError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'ApiError';
    this.status = status;
  }
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: ErrorCodes.INVALID_INPUT,
  401: ErrorCodes.UNAUTHENTICATED,
  403: ErrorCodes.FORBIDDEN,
  404: ErrorCodes.NOT_FOUND,
  409: ErrorCodes.CONFLICT,
  413: ErrorCodes.PAYLOAD_TOO_LARGE,
  415: ErrorCodes.INVALID_INPUT,
  503: ErrorCodes.GATEWAY_UNAVAILABLE,
};

/** Maps an HTTP error answer (JSON `{ error: { code, message } }` or anything else) to an ApiError. */
export function errorFromResponse(domain: string, status: number, bodyText: string): ApiError {
  try {
    const parsed = JSON.parse(bodyText) as { error?: { code?: unknown; message?: unknown } };
    const code = parsed.error?.code;
    const message = parsed.error?.message;
    if (typeof code === 'string' && code.startsWith('GATEHOUSE_ERR_')) {
      // the server may know codes this client does not; keep them as they are
      return new ApiError(status, code as ErrorCode, typeof message === 'string' ? message : code);
    }
  } catch {
    // not JSON: a reverse proxy or a different server answered
  }
  const code = STATUS_CODES[status] ?? ErrorCodes.INTERNAL;
  return new ApiError(status, code, `the Gatehouse server at ${domain} answered HTTP ${status}`);
}

const UNREACHABLE = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const TLS = /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/;

/** Maps a network failure (undici, ws, net) to a GatehouseError naming the domain. */
export function errorFromNetwork(domain: string, err: unknown): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const code = networkCode(err);
  if (code && TIMED_OUT.has(code)) {
    return new GatehouseError(ErrorCodes.TIMEOUT, `the Gatehouse server at ${domain} did not answer in time`, { cause: err });
  }
  if (code && TLS.test(code)) {
    return new GatehouseError(
      ErrorCodes.SERVER_UNREACHABLE,
      `the Gatehouse server at ${domain} is unreachable: its TLS certificate was not accepted (${code})`,
      { cause: err },
    );
  }
  const why = code && UNREACHABLE.has(code) ? code : code ?? (err instanceof Error ? err.message : String(err));
  return new GatehouseError(
    ErrorCodes.SERVER_UNREACHABLE,
    `the Gatehouse server at ${domain} is unreachable (${why}); check the address and your network`,
    { cause: err },
  );
}

function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    const e = current as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (Array.isArray(e.errors) && e.errors.length > 0) current = e.errors[0];
    else current = e.cause;
  }
  return undefined;
}

/** Whether the person has to sign in again (no tokens, or the refresh did not help). */
export function isSignInRequired(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === ErrorCodes.UNAUTHENTICATED || code === ErrorCodes.TOKEN_EXPIRED || code === ErrorCodes.NOT_SIGNED_IN;
}
