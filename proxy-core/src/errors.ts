/**
 * Errors with stable codes. Every error that crosses a process boundary (HTTP, WebSocket,
 * IPC) travels as `{ name, code, message }` and is recognised with `isGatehouseErrorLike`,
 * never with `instanceof`.
 */

export const ErrorCodes = {
  INTERNAL: 'GATEHOUSE_ERR_INTERNAL',
  INVALID_INPUT: 'GATEHOUSE_ERR_INVALID_INPUT',
  NOT_FOUND: 'GATEHOUSE_ERR_NOT_FOUND',
  CONFLICT: 'GATEHOUSE_ERR_CONFLICT',
  UNAUTHENTICATED: 'GATEHOUSE_ERR_UNAUTHENTICATED',
  TOKEN_EXPIRED: 'GATEHOUSE_ERR_TOKEN_EXPIRED',
  INVALID_CREDENTIALS: 'GATEHOUSE_ERR_INVALID_CREDENTIALS',
  FORBIDDEN: 'GATEHOUSE_ERR_FORBIDDEN',
  PAYLOAD_TOO_LARGE: 'GATEHOUSE_ERR_PAYLOAD_TOO_LARGE',
  ENROLLMENT_TOKEN_INVALID: 'GATEHOUSE_ERR_ENROLLMENT_TOKEN_INVALID',
  GATEWAY_UNAVAILABLE: 'GATEHOUSE_ERR_GATEWAY_UNAVAILABLE',
  SESSION_EXPIRED: 'GATEHOUSE_ERR_SESSION_EXPIRED',
  SESSION_REVOKED: 'GATEHOUSE_ERR_SESSION_REVOKED',
  SESSION_ENDED: 'GATEHOUSE_ERR_SESSION_ENDED',
  PROTOCOL: 'GATEHOUSE_ERR_PROTOCOL',
  MESSAGE_TOO_LARGE: 'GATEHOUSE_ERR_MESSAGE_TOO_LARGE',
  UPSTREAM_CONNECT: 'GATEHOUSE_ERR_UPSTREAM_CONNECT',
  UPSTREAM_TLS: 'GATEHOUSE_ERR_UPSTREAM_TLS',
  UPSTREAM_AUTH: 'GATEHOUSE_ERR_UPSTREAM_AUTH',
  UNSUPPORTED_AUTH: 'GATEHOUSE_ERR_UNSUPPORTED_AUTH',
  TUNNEL_CLOSED: 'GATEHOUSE_ERR_TUNNEL_CLOSED',
  RECORDING_UNAVAILABLE: 'GATEHOUSE_ERR_RECORDING_UNAVAILABLE',
  PORT_IN_USE: 'GATEHOUSE_ERR_PORT_IN_USE',
  TIMEOUT: 'GATEHOUSE_ERR_TIMEOUT',
  CONFIG: 'GATEHOUSE_ERR_CONFIG',
  SERVER_UNREACHABLE: 'GATEHOUSE_ERR_SERVER_UNREACHABLE',
  KEYCHAIN_UNAVAILABLE: 'GATEHOUSE_ERR_KEYCHAIN_UNAVAILABLE',
  NOT_SIGNED_IN: 'GATEHOUSE_ERR_NOT_SIGNED_IN',
  UNSUPPORTED_MEDIA_TYPE: 'GATEHOUSE_ERR_UNSUPPORTED_MEDIA_TYPE',
  DECRYPT_FAILED: 'GATEHOUSE_ERR_DECRYPT_FAILED',
  CLIENT_NOT_FOUND: 'GATEHOUSE_ERR_CLIENT_NOT_FOUND',
  CLIENT_LAUNCH_FAILED: 'GATEHOUSE_ERR_CLIENT_LAUNCH_FAILED',
  MFA_REQUIRED: 'GATEHOUSE_ERR_MFA_REQUIRED',
  MFA_INVALID: 'GATEHOUSE_ERR_MFA_INVALID',
  LOCKED_OUT: 'GATEHOUSE_ERR_LOCKED_OUT',
  RATE_LIMITED: 'GATEHOUSE_ERR_RATE_LIMITED',
  USER_DISABLED: 'GATEHOUSE_ERR_USER_DISABLED',
  INVITATION_INVALID: 'GATEHOUSE_ERR_INVITATION_INVALID',
  POLICY_DENIED: 'GATEHOUSE_ERR_POLICY_DENIED',
  APPROVAL_REQUIRED: 'GATEHOUSE_ERR_APPROVAL_REQUIRED',
  SELF_APPROVAL: 'GATEHOUSE_ERR_SELF_APPROVAL',
  REQUEST_NOT_PENDING: 'GATEHOUSE_ERR_REQUEST_NOT_PENDING',
  AUDIT_CHAIN_BROKEN: 'GATEHOUSE_ERR_AUDIT_CHAIN_BROKEN',
  /** Another gatehouse-server process holds this data dir (its embedded store has one writer). */
  DATA_DIR_IN_USE: 'GATEHOUSE_ERR_DATA_DIR_IN_USE',
  /** No Gatehouse store where one was expected (a mistyped --data-dir). */
  STORE_NOT_FOUND: 'GATEHOUSE_ERR_STORE_NOT_FOUND',
  CSRF: 'GATEHOUSE_ERR_CSRF',
  /** Web Access (issue 12): a configured limit refused the request; the message names it. */
  WEB_SESSION_LIMIT: 'GATEHOUSE_ERR_WEB_SESSION_LIMIT',
  /** Web Access: a staged change found the row changed by someone else since it was read. */
  ROW_CHANGED: 'GATEHOUSE_ERR_ROW_CHANGED',
  /** Web Access: the database refused a statement (the body carries its SQLSTATE). */
  QUERY_FAILED: 'GATEHOUSE_ERR_QUERY_FAILED',
  /** Web Access: edits on a view or a table without a primary key. */
  READ_ONLY: 'GATEHOUSE_ERR_READ_ONLY',
  /** Web Access: the web session lives on another control plane replica (affinity needed). */
  WEB_SESSION_ELSEWHERE: 'GATEHOUSE_ERR_WEB_SESSION_ELSEWHERE',
  /**
   * A direct stream cannot be opened on this route (the replica reached does not hold the
   * session's tunnel, or its gateway does not dial back): open the connection through the tunnel.
   */
  DIRECT_STREAM_UNAVAILABLE: 'GATEHOUSE_ERR_DIRECT_STREAM_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The second factors a person can answer an MFA challenge with. */
export type MfaMethod = 'totp' | 'email' | 'recovery';

/**
 * The facts some errors carry besides their code and message, typed (as undici's error
 * classes carry theirs), so each caller words them: the HTTP API sends them next to `error`,
 * the IPC envelope as `details`, the CLI and the renderer turn them into sentences.
 */
export interface ErrorDetails {
  /** MFA_REQUIRED: the methods the server accepts for the fresh proof (and where to ask for an email code). */
  challenge?: { methods: MfaMethod[]; emailSendPath?: string };
  /** APPROVAL_REQUIRED: how many approvals the account needs, and the request that is not (yet) approved. */
  approval?: { requiredApprovals: number; requestId?: string; status?: 'pending' | 'denied' | 'expired' };
  /** LOCKED_OUT (and RATE_LIMITED when sent): when to try again. */
  retryAfterSeconds?: number;
  /** PORT_IN_USE: the local port that another program holds. */
  port?: number;
  /** INVALID_INPUT: the input field at fault. */
  field?: string;
  /** ROW_CHANGED (Web Access): the staged change (0-based) whose row changed since it was read, and its key. */
  change?: number;
  key?: unknown;
  /** QUERY_FAILED (Web Access): the database's SQLSTATE and, when it gave them, position, detail and hint. */
  sqlstate?: string;
  position?: number;
  detail?: string;
  hint?: string;
}

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details?: ErrorDetails;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.details = options?.details;
  }
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, ...(this.details && { details: this.details }) };
  }
}

/** INVALID_INPUT naming the offending field (`details.field`). */
export class InvalidInputError extends GatehouseError {
  constructor(message: string, field?: string) {
    super(ErrorCodes.INVALID_INPUT, message, field === undefined ? undefined : { details: { field } });
  }
  get field(): string | undefined {
    return this.details?.field;
  }
}

/** NOT_FOUND: "<what> not found". */
export function notFound(what: string): GatehouseError {
  return new GatehouseError(ErrorCodes.NOT_FOUND, `${what} not found`);
}

export function isGatehouseErrorLike(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SerializedError).code === 'string' &&
    (value as SerializedError).code.startsWith('GATEHOUSE_ERR_') &&
    typeof (value as SerializedError).message === 'string'
  );
}

/** `{ name, code, message }` and, where the error carries them, its `details`; anything else is INTERNAL. */
export function serializeError(err: unknown): SerializedError {
  if (isGatehouseErrorLike(err)) {
    const details = typeof err.details === 'object' && err.details !== null && Object.keys(err.details).length > 0 ? { details: err.details } : {};
    return { name: err.name ?? 'GatehouseError', code: err.code, message: err.message, ...details };
  }
  return { name: 'GatehouseError', code: ErrorCodes.INTERNAL, message: 'internal error' };
}
