import type { CloseReason } from '../../proxy-core/src/upstream/index.ts';
import { ADMIN_SHUTDOWN } from '../../proxy-core/src/protocol/sqlstate.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { timerDelay } from '../../proxy-core/src/timers.ts';
import { SESSION_END, type SessionEndReason } from '../../proxy-core/src/tunnel/session-end.ts';

const log = createLogger('gateway.sessions');

export type { SessionEndReason };

/** A live PG connection the registry can end (a `serveClientStream` handle). */
export interface Terminable {
  terminate(sqlstate?: string, message?: string): Promise<CloseReason>;
}

interface SessionEntry {
  expiresAt: number;
  timer: NodeJS.Timeout | undefined;
  connections: Set<Terminable>;
}

/**
 * The sessions this gateway serves: their live connections, an expiry timer each, and the
 * sessions already over (so a late stream is refused). Ending a session terminates every
 * connection with 57P01 within a second.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly ended = new Map<string, { reason: SessionEndReason; expiresAt: number }>();

  /** Why the session may not take a new connection now, or undefined if it may. */
  refusal(sessionId: string, expiresAt: number, now = Date.now()): SessionEndReason | undefined {
    const ended = this.ended.get(sessionId);
    if (ended) return ended.reason;
    if (!(expiresAt > now)) return 'expired';
    return undefined;
  }

  /** Tracks a connection until it closes; arms the session's expiry timer. */
  add(sessionId: string, expiresAt: number, connection: Terminable, closed: Promise<unknown>): void {
    let entry = this.sessions.get(sessionId);
    if (!entry) {
      entry = { expiresAt: 0, timer: undefined, connections: new Set() };
      this.sessions.set(sessionId, entry);
    }
    if (expiresAt > entry.expiresAt) {
      clearTimeout(entry.timer);
      entry.expiresAt = expiresAt;
      entry.timer = setTimeout(() => this.onTimer(sessionId), timerDelay(expiresAt - Date.now()));
      entry.timer.unref();
    }
    entry.connections.add(connection);
    void closed.finally(() => {
      entry.connections.delete(connection);
      if (entry.connections.size === 0 && this.sessions.get(sessionId) === entry) {
        clearTimeout(entry.timer);
        this.sessions.delete(sessionId);
      }
    });
  }

  /** Moves a live session's expiry later (extended in place); earlier values are ignored. */
  extend(sessionId: string, expiresAt: number): void {
    const entry = this.sessions.get(sessionId);
    if (!entry || this.ended.has(sessionId) || !(expiresAt > entry.expiresAt)) return;
    clearTimeout(entry.timer);
    entry.expiresAt = expiresAt;
    entry.timer = setTimeout(() => this.onTimer(sessionId), timerDelay(expiresAt - Date.now()));
    entry.timer.unref();
  }

  /** Ends a session: refuse new streams, terminate every open connection. */
  end(sessionId: string, reason: SessionEndReason): Promise<void> {
    this.pruneEnded();
    const entry = this.sessions.get(sessionId);
    if (!this.ended.has(sessionId)) this.ended.set(sessionId, { reason, expiresAt: entry?.expiresAt ?? Date.now() });
    if (!entry) return Promise.resolve();
    clearTimeout(entry.timer);
    const connections = [...entry.connections];
    if (connections.length > 0) log.info({ sessionId, reason, connections: connections.length }, 'session over; terminating its connections');
    return Promise.all(connections.map((c) => c.terminate(SESSION_END[reason].sqlstate, SESSION_END[reason].termination))).then(() => undefined);
  }

  /** Terminates everything (gateway shutdown). */
  async closeAll(message = 'terminating connection: the gateway is shutting down'): Promise<void> {
    const all: Promise<unknown>[] = [];
    for (const entry of this.sessions.values()) {
      clearTimeout(entry.timer);
      for (const c of entry.connections) all.push(c.terminate(ADMIN_SHUTDOWN, message));
    }
    await Promise.all(all);
    this.sessions.clear();
  }

  get connectionCount(): number {
    let n = 0;
    for (const entry of this.sessions.values()) n += entry.connections.size;
    return n;
  }

  private onTimer(sessionId: string): void {
    const entry = this.sessions.get(sessionId);
    if (!entry) return;
    if (entry.expiresAt > Date.now() + 5) {
      entry.timer = setTimeout(() => this.onTimer(sessionId), timerDelay(entry.expiresAt - Date.now()));
      entry.timer.unref();
      return;
    }
    void this.end(sessionId, 'expired');
  }

  /** Ended sessions are remembered until a day after their expiry (by then expiry refuses them anyway). */
  private pruneEnded(): void {
    const horizon = Date.now() - 86_400_000;
    for (const [id, e] of this.ended) if (e.expiresAt < horizon) this.ended.delete(id);
  }
}
