import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

const corked = new WeakSet<Writable>();

/**
 * Holds `socket`'s writes until the end of this event-loop turn, so that they leave in one
 * write(2) instead of one each.
 *
 * On a busy path most of the time goes to write(2) and to waking the reader, not to our code.
 * The first call of a turn corks the socket; an immediate, which runs after every I/O callback
 * of the turn, uncorks it. Writes made while handling one read (or several sockets that were
 * readable together) thus go out as a single writev. Nothing waits for a timer: an idle socket
 * writes at the end of the same turn it would have written anyway. Backpressure is unchanged:
 * corked bytes count in `writableLength`, so `write()` still returns false past the mark.
 */
export function coalesceWritesThisTurn(socket: Writable): void {
  if (corked.has(socket) || socket.destroyed) return;
  corked.add(socket);
  socket.cork();
  setImmediate(uncork, socket);
}

function uncork(socket: Writable): void {
  corked.delete(socket);
  socket.uncork();
}

/** Sends WebSocket messages with {@link coalesceWritesThisTurn} on the WebSocket's socket. */
export class CoalescingSender {
  readonly #ws: WebSocket;

  constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  send(data: Buffer | string, callback?: (err?: Error) => void): void {
    // ws keeps its socket in `_socket` (set when the connection opens; never replaced).
    const socket = (this.#ws as unknown as { _socket?: Socket })._socket;
    if (socket !== undefined) coalesceWritesThisTurn(socket);
    this.#ws.send(data, { binary: typeof data !== 'string' }, callback);
  }
}

/**
 * Bytes a relaying connection lets pile up in a destination before it pauses the source. A
 * stream's own high-water mark (16 KiB) would pause the source after every 64 KiB read of a
 * bulk transfer; each pause and resume of a socket costs two epoll_ctl calls and a turn.
 */
export const RELAY_BUFFER_BYTES = 256 * 1024;

/** Writes `chunk` to `destination`; false when the source should pause until 'drain'. */
export function relayWrite(destination: Writable, chunk: Buffer): boolean {
  destination.write(chunk);
  return destination.writableLength < RELAY_BUFFER_BYTES;
}
