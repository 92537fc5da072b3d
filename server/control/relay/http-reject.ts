import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike, type ErrorCode } from '../../../proxy-core/src/errors.ts';
import { endWithJsonError } from '../api/client-error.ts';
import { httpStatusOf } from '../api/errors.ts';

export interface UpgradeRefusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/** What to answer for an error thrown while authorizing an upgrade. Errors with no status are 500 without detail. */
export function refusalFor(err: unknown): UpgradeRefusal {
  if (isGatehouseErrorLike(err)) {
    const code = err.code as ErrorCode;
    const status = httpStatusOf(code); // the same status the JSON API gives the code
    if (status !== undefined) return { status, code, message: err.message };
  }
  const internal = new GatehouseError(ErrorCodes.INTERNAL, 'internal error');
  return { status: 500, code: internal.code, message: internal.message };
}

/** Answer an upgrade request with a plain HTTP response carrying the JSON error body, then close. */
export function rejectUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  endWithJsonError(socket, refusal.status, { code: refusal.code, message: refusal.message });
}
