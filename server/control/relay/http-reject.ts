import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike, type ErrorCode } from '../../../proxy-core/src/errors.ts';

/** HTTP status for an error refusing a WebSocket upgrade. Stable: clients show these. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.UNAUTHENTICATED]: 401,
  [ErrorCodes.TOKEN_EXPIRED]: 401,
  [ErrorCodes.INVALID_CREDENTIALS]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.SESSION_EXPIRED]: 410,
  [ErrorCodes.SESSION_REVOKED]: 410,
  [ErrorCodes.SESSION_ENDED]: 410,
  [ErrorCodes.INVALID_INPUT]: 400,
  [ErrorCodes.GATEWAY_UNAVAILABLE]: 503,
};

export interface UpgradeRefusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/** What to answer for an error thrown while authorizing an upgrade. Unknown errors are 500 without detail. */
export function refusalFor(err: unknown): UpgradeRefusal {
  if (isGatehouseErrorLike(err)) {
    const code = err.code as ErrorCode;
    const status = STATUS_BY_CODE[code];
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
  const body = JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
  const head = [
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  socket.end(head + body);
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}
