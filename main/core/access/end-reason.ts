import { ErrorCodes, serializeError, type SerializedError } from '../../../proxy-core/src/errors.ts';
import { sessionEndReasonOf } from '../../../proxy-core/src/tunnel/session-end.ts';
import type { AccessEndReason } from './types.ts';

/**
 * Whether a failure to (re)open the tunnel means the session is over (and why), or is
 * worth retrying (network, timeouts, a gateway that is away for a moment).
 */
export function terminalReasonFor(err: unknown): { reason: AccessEndReason; error?: SerializedError } | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case ErrorCodes.SESSION_REVOKED:
    case ErrorCodes.SESSION_EXPIRED:
    case ErrorCodes.SESSION_ENDED:
      return { reason: sessionEndReasonOf(code) ?? 'ended' };
    case ErrorCodes.NOT_FOUND:
      return { reason: 'ended' };
    case ErrorCodes.UNAUTHENTICATED:
    case ErrorCodes.NOT_SIGNED_IN:
    case ErrorCodes.TOKEN_EXPIRED:
    case ErrorCodes.FORBIDDEN:
    case ErrorCodes.INVALID_INPUT:
      return { reason: 'error', error: serializeError(err) };
    default:
      return undefined;
  }
}
