import { ErrorCodes, GatehouseError, type ErrorCode, type ErrorDetails, type MfaMethod } from '../../../proxy-core/src/errors.ts';

/**
 * An error answer from the control plane: the server's code and message, plus the status
 * and, for MFA_REQUIRED / APPROVAL_REQUIRED / LOCKED_OUT, the `details` that say what to do.
 */
export class ApiError extends GatehouseError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, Object.keys(details).length > 0 ? { details } : undefined);
    this.name = 'ApiError';
    this.status = status;
  }
}

const MFA_METHODS: readonly MfaMethod[] = ['totp', 'email', 'recovery'];

/** The refusal details in an error body (at the top level or inside `error`), validated. */
export function detailsFrom(body: unknown, retryAfterHeader?: string): ErrorDetails {
  const top = (body ?? {}) as Record<string, unknown>;
  const inner = (top.error ?? {}) as Record<string, unknown>;
  const pick = (key: string): unknown => top[key] ?? inner[key];
  const details: ErrorDetails = {};
  const challenge = pick('challenge') as { methods?: unknown } | undefined;
  if (challenge && Array.isArray(challenge.methods)) {
    details.challenge = { methods: challenge.methods.filter((m): m is MfaMethod => MFA_METHODS.includes(m as MfaMethod)) };
  }
  const approval = pick('approval') as { requiredApprovals?: unknown } | undefined;
  if (approval && typeof approval.requiredApprovals === 'number') details.approval = { requiredApprovals: approval.requiredApprovals };
  const retry = pick('retryAfterSeconds') ?? (retryAfterHeader !== undefined ? Number(retryAfterHeader) : undefined);
  if (typeof retry === 'number' && Number.isFinite(retry) && retry >= 0) details.retryAfterSeconds = Math.ceil(retry);
  return details;
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
export function errorFromResponse(domain: string, status: number, bodyText: string, retryAfterHeader?: string): ApiError {
  try {
    const parsed = JSON.parse(bodyText) as { error?: { code?: unknown; message?: unknown } };
    const code = parsed.error?.code;
    const message = parsed.error?.message;
    if (typeof code === 'string' && code.startsWith('GATEHOUSE_ERR_')) {
      // the server may know codes this client does not; keep them as they are
      return new ApiError(status, code as ErrorCode, typeof message === 'string' ? message : code, detailsFrom(parsed, retryAfterHeader));
    }
  } catch {
    // not JSON: a reverse proxy or a different server answered
  }
  const code = STATUS_CODES[status] ?? ErrorCodes.INTERNAL;
  return new ApiError(status, code, `the Gatehouse server at ${domain} answered HTTP ${status}`);
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
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
  const why = code && UNREACHABLE.has(code) ? code : (code ?? (err instanceof Error ? err.message : String(err)));
  return new GatehouseError(ErrorCodes.SERVER_UNREACHABLE, `the Gatehouse server at ${domain} is unreachable (${why}); check the address and your network`, {
    cause: err,
  });
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

/** Whether `err` carries the given code (works across IPC and for codes outside ErrorCode). */
export function hasCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | null)?.code === code;
}

/** "in 14 minutes" / "in 30 seconds" for a LOCKED_OUT's retryAfterSeconds. */
export function retryAfterText(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 90) return `try again in ${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `try again in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}
