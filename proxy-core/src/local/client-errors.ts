/**
 * What a PG client sees when the local proxy refuses or ends its connection: always an
 * ErrorResponse with a SQLSTATE and a message that says what happened and what to do.
 */
import { createErrorResponse, createNoticeResponse } from '../protocol/backend/error-response.ts';
import { SqlState } from '../protocol/sqlstate.ts';
import type { SessionEndReason } from '../tunnel/session-end.ts';

/** SQLSTATE class 01: warning. */
const WARNING = '01000';

/** Why the local proxy ends a connection: the session's end (tunnel/session-end.ts), or access stopped on this computer. */
export type EndReason = SessionEndReason | 'stopped';

const END_MESSAGES: Record<EndReason, string> = {
  expired: 'Gatehouse session has expired; run gatehouse db access again',
  revoked: 'Gatehouse session was revoked by an administrator',
  ended: 'Gatehouse session has ended; run gatehouse db access again',
  stopped: 'Gatehouse access on this computer was stopped; start it again to reconnect',
};

export function sessionEndedError(reason: EndReason): Buffer {
  return createErrorResponse({ severity: 'FATAL', code: SqlState.ADMIN_SHUTDOWN, message: END_MESSAGES[reason] });
}

export function protocolViolation(message: string): Buffer {
  return createErrorResponse({ severity: 'FATAL', code: SqlState.PROTOCOL_VIOLATION, message });
}

export function wrongDatabase(requested: string, database: string): Buffer {
  return createErrorResponse({
    severity: 'FATAL',
    code: SqlState.INVALID_CATALOG_NAME,
    message: `database "${requested}" is not available in this session; connect to database "${database}"`,
  });
}

/** Another OS user tried to use this session's port (issue 10 item 4). */
export function peerRefused(reason: string): Buffer {
  return createErrorResponse({
    severity: 'FATAL',
    code: SqlState.INVALID_AUTHORIZATION,
    message: `connection refused by Gatehouse: ${reason}`,
    hint: 'Run gatehouse db access as your own OS user to get your own session.',
  });
}

/** Local password mode: the client did not prove the session's local password. */
export function localPasswordFailed(why: string): Buffer {
  return createErrorResponse({
    severity: 'FATAL',
    code: SqlState.INVALID_PASSWORD,
    message: `password authentication failed for this Gatehouse session (${why})`,
    hint: "Use the connection URL that gatehouse db access --local-password printed; it holds the session's local password.",
  });
}

export function replicationRefused(): Buffer {
  return createErrorResponse({
    severity: 'FATAL',
    code: SqlState.FEATURE_NOT_SUPPORTED,
    message: 'replication connections are not supported through Gatehouse',
  });
}

export function connectionFailure(what: string): Buffer {
  return createErrorResponse({
    severity: 'FATAL',
    code: SqlState.CONNECTION_FAILURE,
    message: `could not reach the database through Gatehouse: ${what}`,
    hint: 'Check that the Gatehouse gateway is online and the session is active, then reconnect.',
  });
}

export function connectionLost(what: string): Buffer {
  return createErrorResponse({
    severity: 'FATAL',
    code: SqlState.CONNECTION_FAILURE,
    message: `the connection to the database through Gatehouse was lost: ${what}`,
    hint: 'Reconnect; if this keeps happening, check that the Gatehouse gateway is online.',
  });
}

/** "Gatehouse session expires in 5 minutes (at 14:05 UTC)". */
export function expiryNotice(expiresAt: Date, now = Date.now()): Buffer {
  const hhmm = expiresAt.toISOString().slice(11, 16);
  return createNoticeResponse({
    severity: 'WARNING',
    code: WARNING,
    message: `Gatehouse session expires in ${describeTimeLeft(expiresAt.getTime() - now)} (at ${hhmm} UTC)`,
  });
}

/** "5 minutes", "1 minute", "40 seconds": whole minutes from 90 s up, seconds below. */
export function describeTimeLeft(ms: number): string {
  if (ms >= 90_000) {
    const minutes = Math.round(ms / 60_000);
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  const seconds = Math.max(1, Math.round(ms / 1000));
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
