import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError, serializeError, type SerializedError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { KeyPairPem } from '../../../proxy-core/src/tls/certs.ts';
import type { StreamOpenMeta } from '../../../proxy-core/src/tunnel/meta.ts';
import { Mux, type ControlMessage } from '../../../proxy-core/src/tunnel/mux.ts';
import { parseControlMessage } from '../../../proxy-core/src/tunnel/control-messages.ts';
import type { ApiClient } from '../api/api-client.ts';
import type { CreateSessionResult } from '../api/types.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { connectionUrl } from './connection-url.ts';
import { terminalReasonFor } from './end-reason.ts';
import type { AccessProxy, CreateAccessProxy } from './local-proxy-port.ts';
import { Throttle } from './throttle.ts';
import type { AccessEndReason, AccessState, AccessStatus, TunnelNotice } from './types.ts';
import { timerDelay } from '../../../proxy-core/src/timers.ts';

const log = createLogger('access');
const STOP_TIMEOUT_MS = 5_000;

export interface AccessSessionOptions {
  api: ApiClient;
  created: CreateSessionResult;
  keyPair: KeyPairPem;
  port: number;
  createProxy: CreateAccessProxy;
  backoff: BackoffOptions;
  statusIntervalMs: number;
  /**
   * After expiry or revocation, keep the local port answering new connections with a clear
   * FATAL for this long before releasing it (instead of "connection refused").
   */
  endedLingerMs: number;
  /** Local password mode (issue 10 item 4); never part of a status report. */
  localPassword?: string;
}

/**
 * One access session on this machine: the tunnel (reconnected with backoff while the session
 * is active), the local proxy on its port, the expiry timer and throttled status reports.
 * Emits 'status' (AccessStatus) at most once per `statusIntervalMs`.
 */
export class AccessSession extends EventEmitter<{ status: [AccessStatus]; tunnel: [TunnelNotice] }> {
  readonly id: string;
  readonly #opts: AccessSessionOptions;
  readonly #expiresAt: Date;
  readonly #throttle: Throttle;
  #state: AccessState = 'starting';
  #endReason: AccessEndReason | undefined;
  #error: SerializedError | undefined;
  #mux: Mux | undefined;
  #proxy: AccessProxy | undefined;
  #lastStats = { connections: 0, statements: 0, bytesIn: 0, bytesOut: 0 };
  #expiryTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnecting = false;
  #tunnelLost = false;
  #finishing: Promise<void> | undefined;

  constructor(opts: AccessSessionOptions) {
    super();
    this.#opts = opts;
    this.id = opts.created.session.id;
    this.#expiresAt = new Date(opts.created.session.expiresAt);
    this.#throttle = new Throttle(() => this.emit('status', this.status()), opts.statusIntervalMs);
  }

  get state(): AccessState {
    return this.#state;
  }

  status(): AccessStatus {
    const { session } = this.#opts.created;
    if (this.#proxy) this.#lastStats = { ...this.#lastStats, ...this.#proxy.stats() };
    return {
      sessionId: session.id,
      projectId: session.projectId,
      resourceName: session.resource.name,
      accountName: session.account.name,
      database: session.resource.database,
      username: session.account.username,
      host: '127.0.0.1',
      port: this.#opts.port,
      url: connectionUrl({ username: session.account.username, port: this.#opts.port, database: session.resource.database }),
      expiresAt: session.expiresAt,
      state: this.#state,
      ...(this.#state === 'ready' && { tunnel: this.#tunnelLost ? 'reconnecting' : 'connected' }),
      ...(this.#endReason ? { endReason: this.#endReason } : {}),
      ...(this.#error ? { error: this.#error } : {}),
      ...this.#lastStats,
    };
  }

  /** Opens the tunnel, then the local proxy; resolves once the proxy listens. */
  async open(): Promise<void> {
    await this.#connectTunnel();
    const { created, keyPair } = this.#opts;
    const proxy = this.#opts.createProxy({
      host: '127.0.0.1',
      port: this.#opts.port,
      database: created.session.resource.database,
      openStream: (meta) => this.#openStream(meta),
      tls: { keyPem: keyPair.privateKeyPem, certPem: created.certificatePem, caPem: created.caCertificatePem, gatewayId: created.gatewayId },
      expiresAt: this.#expiresAt,
      ...(this.#opts.localPassword !== undefined && { localPassword: this.#opts.localPassword }),
    });
    this.#proxy = proxy;
    const onActivity = () => this.#throttle.request();
    proxy.on('stats', onActivity);
    proxy.on('connection', onActivity);
    try {
      await proxy.listen();
    } catch (err) {
      this.#proxy = undefined;
      throw portError(err, this.#opts.port);
    }
    this.#state = 'ready';
    this.#armExpiry();
    this.#throttle.request();
  }

  /** Ends the session here (and on the server when asked); idempotent. */
  finish(reason: AccessEndReason, opts: { endOnServer?: boolean; error?: unknown } = {}): Promise<void> {
    this.#finishing ??= this.#finish(reason, opts);
    return this.#finishing;
  }

  async #finish(reason: AccessEndReason, opts: { endOnServer?: boolean; error?: unknown }): Promise<void> {
    log.info({ sessionId: this.id, reason }, 'access session ending');
    this.#state = 'ending';
    this.#endReason = reason;
    if (opts.error !== undefined) this.#error = serializeError(opts.error);
    clearTimeout(this.#expiryTimer);
    clearTimeout(this.#reconnectTimer);
    this.#throttle.request();
    // Local clients first: they get a PG error saying why, and no new connection is accepted.
    try {
      this.#proxy?.end(reason === 'error' ? 'ended' : reason);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'local proxy end failed');
    }
    if (opts.endOnServer) {
      await this.#opts.api.endSession(this.id).catch((err: unknown) => {
        log.warn({ sessionId: this.id, err: (err as Error).message }, 'could not end the session on the server; it ends at its expiry');
      });
    }
    const linger = reason === 'expired' || reason === 'revoked' ? this.#opts.endedLingerMs : 0;
    await withDeadline(Promise.resolve(this.#mux?.close()), STOP_TIMEOUT_MS);
    if (linger > 0) await new Promise((r) => setTimeout(r, linger));
    await withDeadline(Promise.resolve(this.#proxy?.close()), STOP_TIMEOUT_MS);
    if (this.#proxy) this.#lastStats = { ...this.#lastStats, ...this.#proxy.stats() };
    this.#proxy = undefined;
    this.#state = reason === 'error' ? 'error' : 'ended';
    await this.#throttle.flush();
  }

  #openStream(meta: StreamOpenMeta): Duplex {
    const mux = this.#mux;
    if (!mux) {
      throw new GatehouseError(
        ErrorCodes.TUNNEL_CLOSED,
        this.#tunnelLost ? 'the connection to Gatehouse was lost and is being re-established; try again in a few seconds' : 'the tunnel to the Gatehouse server is not open',
      );
    }
    return mux.openStream(meta);
  }

  async #connectTunnel(): Promise<void> {
    const ws = await this.#opts.api.openTunnel(this.id);
    const mux = new Mux(ws, { initiator: true });
    mux.on('control', (msg) => this.#onControl(msg));
    mux.on('close', (err) => this.#onTunnelClosed(mux, err));
    ws.resume();
    if (this.#finishing) {
      void mux.close();
      return;
    }
    this.#mux = mux;
  }

  #onControl(raw: ControlMessage): void {
    const parsed = parseControlMessage(raw);
    if (!parsed.ok) {
      log.debug({ sessionId: this.id, type: parsed.type, error: parsed.error }, 'control message ignored');
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'session-ended') {
      void this.finish(msg.reason);
    } else if (msg.type === 'gateway-status') {
      log.info({ sessionId: this.id, connected: msg.connected }, 'gateway status');
    }
  }

  #onTunnelClosed(mux: Mux, err: GatehouseError): void {
    if (mux !== this.#mux || this.#finishing || this.#state !== 'ready') return;
    // Said in words by the CLI and shown by the desktop app (the 'tunnel' event), not as a log warning.
    log.info({ sessionId: this.id, err: err.message }, 'tunnel dropped; reconnecting');
    this.#mux = undefined;
    this.#tunnelLost = true;
    this.emit('tunnel', { sessionId: this.id, state: 'lost', attempt: 0, reason: err.message });
    this.#throttle.request();
    this.#scheduleReconnect(0);
  }

  #scheduleReconnect(attempt: number): void {
    if (this.#finishing || this.#reconnecting) return;
    const delay = backoffDelay(attempt, this.#opts.backoff);
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(attempt), delay);
  }

  async #reconnect(attempt: number): Promise<void> {
    if (this.#finishing) return;
    if (Date.now() >= this.#expiresAt.getTime()) {
      void this.finish('expired');
      return;
    }
    this.#reconnecting = true;
    try {
      await this.#connectTunnel();
      log.info({ sessionId: this.id, attempt }, 'tunnel reconnected');
      if (this.#tunnelLost && !this.#finishing) {
        this.#tunnelLost = false;
        this.emit('tunnel', { sessionId: this.id, state: 'reconnected', attempt: attempt + 1 });
        this.#throttle.request();
      }
    } catch (err) {
      const terminal = terminalReasonFor(err);
      if (terminal) {
        void this.finish(terminal.reason, { error: terminal.reason === 'error' ? err : undefined });
        return;
      }
      log.info({ sessionId: this.id, attempt, err: (err as Error).message }, 'tunnel reconnect failed');
      this.#reconnecting = false;
      this.#scheduleReconnect(attempt + 1);
      return;
    } finally {
      this.#reconnecting = false;
    }
  }

  #armExpiry(): void {
    const remaining = this.#expiresAt.getTime() - Date.now();
    if (remaining <= 0) {
      void this.finish('expired');
      return;
    }
    this.#expiryTimer = setTimeout(() => this.#armExpiry(), timerDelay(remaining));
  }
}

function portError(err: unknown, port: number): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE' || code === ErrorCodes.PORT_IN_USE) {
    return portInUse(port, err);
  }
  return err;
}

/** PORT_IN_USE with the port in `details` (the CLI and the desktop app each say how to pick another). */
export function portInUse(port: number, cause?: unknown): GatehouseError {
  return new GatehouseError(ErrorCodes.PORT_IN_USE, `port ${port} is in use`, { cause, details: { port } });
}

async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
