/**
 * Why an access session ended, said once: the error code a refused stream carries, the
 * SQLSTATE and text a PG client reads when its connection is terminated, and the refusal text.
 * The control plane (relay, cluster bus), the gateway (session registry, stream dispatcher)
 * and the desktop core (access session) all use this one list.
 */
import { ErrorCodes, type ErrorCode } from '../errors.ts';
import { SqlState } from '../protocol/sqlstate.ts';

export const SESSION_END_REASONS = ['expired', 'revoked', 'ended'] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

export interface SessionEnd {
  /** The stable code of a stream refused because the session is over (RST frames, API errors). */
  code: ErrorCode;
  /** The SQLSTATE of the ErrorResponse that terminates a live PG connection (57P01 admin_shutdown). */
  sqlstate: string;
  /** What a refused stream says. */
  refusal: string;
  /** What a PG client reads when its connection is terminated for this reason. */
  termination: string;
}

export const SESSION_END: Readonly<Record<SessionEndReason, SessionEnd>> = {
  expired: {
    code: ErrorCodes.SESSION_EXPIRED,
    sqlstate: SqlState.ADMIN_SHUTDOWN,
    refusal: 'the access session has expired',
    termination: 'terminating connection: the access session expired',
  },
  revoked: {
    code: ErrorCodes.SESSION_REVOKED,
    sqlstate: SqlState.ADMIN_SHUTDOWN,
    refusal: 'the access session has been revoked',
    termination: 'terminating connection: the access session was revoked by an administrator',
  },
  ended: {
    code: ErrorCodes.SESSION_ENDED,
    sqlstate: SqlState.ADMIN_SHUTDOWN,
    refusal: 'the access session has ended',
    termination: 'terminating connection: the access session was ended',
  },
};

/** The end reason an error code stands for (SESSION_EXPIRED → 'expired', …), if any. */
export function sessionEndReasonOf(code: unknown): SessionEndReason | undefined {
  return SESSION_END_REASONS.find((reason) => SESSION_END[reason].code === code);
}
