import { ErrorCodes, serializeError, type SerializedError } from '../../../proxy-core/src/errors.ts';
import type { AccessEndReason } from './types.ts';

/**
 * Whether a failure to (re)open the tunnel means the session is over (and why), or is
 * worth retrying (network, timeouts, a gateway that is away for a moment).
 */
export function terminalReasonFor(err: unknown): { reason: AccessEndReason; error?: SerializedError } | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case ErrorCodes.SESSION_REVOKED:
      return { reason: 'revoked' };
    case ErrorCodes.SESSION_EXPIRED:
      return { reason: 'expired' };
    case ErrorCodes.SESSION_ENDED:
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

/** The end reason carried by a `session-ended` control message. */
export function controlEndReason(value: unknown): AccessEndReason {
  return value === 'revoked' || value === 'expired' || value === 'ended' ? value : 'ended';
}
