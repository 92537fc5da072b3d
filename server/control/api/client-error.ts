/**
 * Requests Node's HTTP parser refuses (raw non-ASCII in the path, oversized headers, a
 * malformed request line, a client too slow to send its headers) still get an answer:
 * a JSON error with a status, then the connection closes.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';

/** The status for a parser error code: 431 for oversized headers, 408 for a timeout, else 400. */
export function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADER_TIMEOUT') return 408;
  return 400;
}

/** The `clientError` listener of the control plane's HTTP server. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // Nothing can be written to a connection the peer reset, or one whose response has begun (Node's own rule).
  const answering = (socket as Duplex & { _httpMessage?: { _headerSent?: boolean } })._httpMessage?._headerSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(err.code);
  endWithJsonError(socket, status, {
    code: ErrorCodes.INVALID_INPUT,
    message: `the request could not be read as HTTP/1.1 (${STATUS_CODES[status] ?? 'Bad Request'})`,
  });
}

/**
 * Writes a whole HTTP/1.1 response with a JSON error body straight to a socket that no
 * ServerResponse owns (a parser error, a refused WebSocket upgrade), then closes it: at once
 * when written, after a second at the latest.
 */
export function endWithJsonError(socket: Duplex, status: number, error: { code: string; message: string }): void {
  const body = JSON.stringify({ error });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
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
