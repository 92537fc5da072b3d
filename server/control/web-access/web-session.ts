/**
 * One web session held by this replica: its tunnel, the Data Explorer's connection (one,
 * requests queue on it), the connections of open terminals and exports, the idle clock and
 * the end. Everything lives in memory only; at the end every connection and the tunnel close.
 */
import type pg from 'pg';
import { ErrorCodes, GatehouseError, type ErrorCode } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { SessionRecord } from '../store/sessions.ts';
import type { User } from '../store/users.ts';
import type { WebAccessLimits } from './limits.ts';
import type { WebTunnel } from './web-tunnel.ts';

const log = createLogger('web-access.session');

export type WebEndReason = 'revoked' | 'expired' | 'ended' | 'idle' | 'lost' | 'shutdown';

export interface WebSessionEnd {
  reason: WebEndReason;
  message: string;
}

export class WebSession {
  readonly id: string;
  readonly user: User;
  readonly record: SessionRecord;
  readonly tunnel: WebTunnel;
  readonly limits: WebAccessLimits;
  #explorer: Promise<pg.Client> | undefined;
  /** Explorer requests run one at a time: a staged-changes transaction must not take in another request's statements. */
  #explorerTurn: Promise<unknown> = Promise.resolve();
  #lastActivity = Date.now();
  #inFlight = 0;
  #ended: WebSessionEnd | undefined;
  readonly #endListeners = new Set<(end: WebSessionEnd) => void>();
  readonly #clients = new Set<pg.Client>();

  constructor(options: { user: User; record: SessionRecord; tunnel: WebTunnel; limits: WebAccessLimits }) {
    this.id = options.record.id;
    this.user = options.user;
    this.record = options.record;
    this.tunnel = options.tunnel;
    this.limits = options.limits;
  }

  get ended(): WebSessionEnd | undefined {
    return this.#ended;
  }

  /** True when nothing ran and nothing was asked for `idleTimeoutSeconds`. */
  isIdle(now: number): boolean {
    return this.#inFlight === 0 && now - this.#lastActivity >= this.limits.idleTimeoutSeconds * 1000;
  }

  touch(): void {
    this.#lastActivity = Date.now();
  }

  /** Runs `work` as activity: the idle clock does not run meanwhile. Refused once the session ended. */
  async busy<T>(work: () => Promise<T>): Promise<T> {
    this.assertLive();
    this.#inFlight += 1;
    this.touch();
    try {
      return await work();
    } finally {
      this.#inFlight -= 1;
      this.touch();
    }
  }

  assertLive(): void {
    if (this.#ended) throw endedError(this.#ended);
  }

  /** Runs `work` on the Data Explorer's connection, after the requests before it (one at a time). */
  withExplorer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const turn = this.#explorerTurn.catch(() => undefined).then(async () => work(await this.explorer()));
    this.#explorerTurn = turn;
    return turn;
  }

  /** The Data Explorer's connection, opened on first use (and again after it broke). */
  explorer(): Promise<pg.Client> {
    this.assertLive();
    this.#explorer ??= this.connect().catch((err: unknown) => {
      this.#explorer = undefined;
      throw err;
    });
    return this.#explorer;
  }

  /** A new connection of this session (terminal, export); closed with the session. */
  async connect(): Promise<pg.Client> {
    this.assertLive();
    const client = await this.tunnel.connect({
      statementTimeoutMs: this.limits.statementTimeoutMs,
    });
    this.#clients.add(client);
    client.once('end', () => {
      this.#clients.delete(client);
      if (this.#explorer)
        void this.#explorer.then(
          (c) => {
            if (c === client) this.#explorer = undefined;
          },
          () => undefined,
        );
    });
    if (this.#ended) {
      await client.end().catch(() => undefined);
      this.assertLive();
    }
    return client;
  }

  async release(client: pg.Client): Promise<void> {
    this.#clients.delete(client);
    await client.end().catch(() => undefined);
  }

  onEnd(listener: (end: WebSessionEnd) => void): () => void {
    if (this.#ended) {
      listener(this.#ended);
      return () => undefined;
    }
    this.#endListeners.add(listener);
    return () => this.#endListeners.delete(listener);
  }

  /** Ends it here: listeners (terminals) are told why, then every connection and the tunnel close. */
  async end(end: WebSessionEnd): Promise<void> {
    if (this.#ended) return;
    this.#ended = end;
    log.info({ sessionId: this.id, reason: end.reason }, 'web session ended');
    for (const listener of this.#endListeners) {
      try {
        listener(end);
      } catch (err) {
        log.warn({ err }, 'web session end listener failed');
      }
    }
    this.#endListeners.clear();
    const clients = [...this.#clients];
    this.#clients.clear();
    this.#explorer = undefined;
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await this.tunnel.close().catch(() => undefined);
  }
}

const END_CODES: Record<WebEndReason, ErrorCode> = {
  revoked: ErrorCodes.SESSION_REVOKED,
  expired: ErrorCodes.SESSION_EXPIRED,
  ended: ErrorCodes.SESSION_ENDED,
  idle: ErrorCodes.SESSION_ENDED,
  lost: ErrorCodes.SESSION_ENDED,
  shutdown: ErrorCodes.SESSION_ENDED,
};

export function endedError(end: WebSessionEnd): GatehouseError {
  return new GatehouseError(END_CODES[end.reason], end.message);
}

export function endMessage(reason: WebEndReason, limits: WebAccessLimits): string {
  switch (reason) {
    case 'revoked':
      return 'an administrator revoked this web session; start a new one if you still need access';
    case 'expired':
      return 'this web session reached the end of its duration; start a new one';
    case 'idle':
      return `this web session was idle for ${formatSeconds(limits.idleTimeoutSeconds)}, the Web Access idle timeout (--web-idle-timeout); start a new one`;
    case 'lost':
      return 'the connection to the database through the gateway was lost; start a new web session';
    case 'shutdown':
      return 'the Gatehouse server is shutting down; start a new web session in a moment';
    case 'ended':
      return 'this web session has ended; start a new one';
  }
}

function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
