import type { Socket } from 'node:net';
import { MessageFramer, type Message } from '../protocol/framing.ts';
import { CONNECTION_FAILURE, PROTOCOL_VIOLATION } from '../protocol/sqlstate.ts';
import { ErrorCodes } from '../errors.ts';
import { UpstreamError } from './upstream-error.ts';

/** Messages during startup are small; a server sending more is broken or hostile. */
const MAX_STARTUP_MESSAGE_LENGTH = 1024 * 1024;

/**
 * Pulls typed messages from a socket one at a time during the startup handshake, then
 * hands the socket back paused, with whatever bytes were read past the last message.
 */
export class MessageReader {
  private readonly framer = new MessageFramer({ maxMessageLength: MAX_STARTUP_MESSAGE_LENGTH });
  private readonly queue: Message[] = [];
  private waiter: { resolve: (m: Message) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.queue.push(...this.framer.push(chunk));
    } catch (err) {
      this.fail(
        new UpstreamError(ErrorCodes.PROTOCOL, `the database server at ${this.where} sent an invalid message: ${(err as Error).message}`, {
          sqlstate: PROTOCOL_VIOLATION,
          cause: err,
        }),
      );
      this.socket.destroy();
      return;
    }
    this.deliver();
  };
  private readonly onEnd = (): void => this.fail(this.closedError());
  private readonly onError = (err: Error): void => this.fail(this.closedError(err));

  constructor(
    private readonly socket: Socket,
    private readonly where: string,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  next(): Promise<Message> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Stops reading; returns the raw bytes of messages received but not consumed. */
  detach(): Buffer {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    const left = Buffer.concat(this.queue.map((m) => m.raw));
    this.queue.length = 0;
    return left;
  }

  /** Bytes of a message still incomplete at detach time would be lost: callers check. */
  get hasPartial(): boolean {
    return this.framer.pendingBytes > 0;
  }

  private deliver(): void {
    if (!this.waiter) return;
    const m = this.queue.shift();
    if (!m) return;
    const w = this.waiter;
    this.waiter = undefined;
    w.resolve(m);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    if (w && this.queue.length === 0) w.reject(err);
  }

  private closedError(cause?: Error): UpstreamError {
    return new UpstreamError(
      ErrorCodes.UPSTREAM_CONNECT,
      `the database server at ${this.where} closed the connection during startup${cause ? ` (${cause.message})` : ''}`,
      { sqlstate: CONNECTION_FAILURE, cause },
    );
  }
}
