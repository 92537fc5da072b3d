import type { WebSocket } from 'ws';

/**
 * Pings every socket at an interval and terminates the ones that did not answer the
 * previous ping, so a half-dead link is noticed (and its streams reset) within two intervals.
 */
export class Heartbeat {
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private readonly sockets = new Set<WebSocket>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  watch(ws: WebSocket): void {
    this.alive.set(ws, true);
    this.sockets.add(ws);
    ws.on('pong', () => this.alive.set(ws, true));
    ws.once('close', () => this.sockets.delete(ws));
  }

  stop(): void {
    clearInterval(this.timer);
    this.sockets.clear();
  }

  private tick(): void {
    for (const ws of this.sockets) {
      if (this.alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }
}
