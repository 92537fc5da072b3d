/**
 * Why a service connection (rotation, health check, Check connection) failed, as a stable
 * code an admin can act on. The database's own message travels with it; the password never
 * does (nothing here ever holds one).
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

export const CredentialFailureCodes = {
  /** No replica holds a link of the resource's gateway. */
  GATEWAY_OFFLINE: 'GATEWAY_OFFLINE',
  /** Another replica holds the gateway's link, this one does not (yet): the job belongs there. */
  GATEWAY_NOT_LINKED_HERE: 'GATEWAY_NOT_LINKED_HERE',
  /** The gateway refused the stream (wrong seal, limits, TLS between control plane and gateway). */
  GATEWAY_REFUSED: 'GATEWAY_REFUSED',
  /** The gateway could not reach the database host (refused, unresolvable, timed out). */
  HOST_UNREACHABLE: 'HOST_UNREACHABLE',
  /** TLS between the gateway and the database failed (not offered, certificate refused). */
  TLS: 'TLS',
  /** The database refused the password (28P01). */
  WRONG_PASSWORD: 'WRONG_PASSWORD',
  /** The database refused the login otherwise (28000: pg_hba, NOLOGIN, auth method the resource does not allow). */
  AUTH_REFUSED: 'AUTH_REFUSED',
  /** 3D000: the resource's database does not exist. */
  DATABASE_NOT_FOUND: 'DATABASE_NOT_FOUND',
  /** 42501 and friends: the rotation account may not ALTER the role. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** Any other error the database reported. */
  DATABASE_ERROR: 'DATABASE_ERROR',
  TIMEOUT: 'TIMEOUT',
  /** The account (or rotation account) has no stored password. */
  NO_PASSWORD: 'NO_PASSWORD',
  /** Stored password and pending one both fail: the database's password was changed elsewhere. */
  NO_WORKING_PASSWORD: 'NO_WORKING_PASSWORD',
} as const;

export type CredentialFailureCode = (typeof CredentialFailureCodes)[keyof typeof CredentialFailureCodes];

/** A failed service connection or statement, with the database's SQLSTATE when it sent one. */
export class CredentialFailure extends Error {
  readonly failure: CredentialFailureCode;
  readonly sqlstate: string | undefined;

  constructor(failure: CredentialFailureCode, message: string, sqlstate?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialFailure';
    this.failure = failure;
    this.sqlstate = sqlstate;
  }

  toJSON(): { code: CredentialFailureCode; message: string; sqlstate?: string } {
    return { code: this.failure, message: this.message, ...(this.sqlstate !== undefined && { sqlstate: this.sqlstate }) };
  }
}

/** From the ErrorResponse a login or statement ended with (the gateway relays the database's fields). */
export function failureFromServer(sqlstate: string, message: string): CredentialFailure {
  const code = classify(sqlstate, message);
  return new CredentialFailure(code, message, sqlstate);
}

function classify(sqlstate: string, message: string): CredentialFailureCode {
  if (sqlstate === '28P01') return CredentialFailureCodes.WRONG_PASSWORD;
  if (sqlstate === '28000') return CredentialFailureCodes.AUTH_REFUSED;
  if (sqlstate === '3D000') return CredentialFailureCodes.DATABASE_NOT_FOUND;
  if (sqlstate === '42501') return CredentialFailureCodes.PERMISSION_DENIED;
  if (sqlstate.startsWith('08')) {
    if (/\b(TLS|SSL|certificate)\b/i.test(message)) return CredentialFailureCodes.TLS;
    if (/timed out/i.test(message)) return CredentialFailureCodes.TIMEOUT;
    return CredentialFailureCodes.HOST_UNREACHABLE;
  }
  return CredentialFailureCodes.DATABASE_ERROR;
}

/** From an error on the way to the gateway (no link, RST, TLS with the gateway, timeout). */
export function failureFromTransport(err: unknown): CredentialFailure {
  if (err instanceof CredentialFailure) return err;
  if (err instanceof GatehouseError) {
    if (err.code === ErrorCodes.GATEWAY_UNAVAILABLE)
      return new CredentialFailure(CredentialFailureCodes.GATEWAY_OFFLINE, `the resource's gateway is offline: ${err.message}`, undefined, { cause: err });
    if (err.code === ErrorCodes.TIMEOUT) return new CredentialFailure(CredentialFailureCodes.TIMEOUT, err.message, undefined, { cause: err });
    return new CredentialFailure(CredentialFailureCodes.GATEWAY_REFUSED, `the gateway refused the connection: ${err.message}`, undefined, { cause: err });
  }
  return new CredentialFailure(CredentialFailureCodes.GATEWAY_REFUSED, `the connection through the gateway failed: ${(err as Error).message}`, undefined, {
    cause: err,
  });
}
