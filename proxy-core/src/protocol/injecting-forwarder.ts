import type { MessageWalker } from './message-walker.ts';

/** A message injection: writes what it injects; 'stop' ends the forwarding (the connection closes). */
export type Injection = () => 'continue' | 'stop';

/**
 * The server → client half of a spliced PG connection, shared by both ends (the local proxy and
 * the gateway): walks the server's bytes once (with the direction's MessageWalker), forwards
 * them, and runs injections (a notice, a final ErrorResponse) only between two server messages,
 * so the client never sees a torn message. Framing errors of the walker are thrown from push().
 */
export class InjectingForwarder {
  private readonly waiting: Injection[] = [];
  private stopped = false;

  constructor(
    private readonly walker: MessageWalker,
    private readonly forward: (buf: Buffer) => void,
  ) {}

  /** True when the server's bytes forwarded so far end exactly at a message boundary. */
  get atBoundary(): boolean {
    return this.walker.atBoundary;
  }

  /** True once an injection said 'stop': nothing more is forwarded. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Runs `injection` at the next message boundary: now, when the bytes so far end at one. */
  atNextBoundary(injection: Injection): void {
    if (this.stopped) return;
    this.waiting.push(injection);
    if (this.walker.atBoundary) this.runWaiting();
  }

  /** Runs the waiting injections now, boundary or not (the server is gone: nothing more will come). */
  runNow(): void {
    if (!this.stopped) this.runWaiting();
  }

  /** Walks and forwards a chunk of server bytes; waiting injections run at the first boundary in it. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    let rest = chunk;
    if (this.waiting.length > 0) {
      const [head, tail] = this.walker.splitAtBoundary(rest);
      if (head.length > 0) this.forward(head);
      if (!this.walker.atBoundary || this.runWaiting()) return;
      rest = tail;
    }
    if (rest.length === 0) return;
    this.walker.push(rest);
    this.forward(rest);
  }

  /** Returns true when an injection stopped the forwarding. */
  private runWaiting(): boolean {
    for (const injection of this.waiting.splice(0)) {
      if (injection() === 'stop') {
        this.stopped = true;
        this.waiting.length = 0;
        return true;
      }
    }
    return false;
  }
}
