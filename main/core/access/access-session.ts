import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError, serializeError, type SerializedError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { KeyPairPem } from '../../../proxy-core/src/tls/certs.ts';
import type { StreamOpenMeta } from '../../../proxy-core/src/tunnel/meta.ts';
import { Mux, type ControlMessage } from '../../../proxy-core/src/tunnel/mux.ts';
import { parseControlMessage } from '../../../proxy-core/src/tunnel/control-messages.ts';
import type { ApiClient } from '../api/api-client.ts';
import type { CreateSessionResult, MfaProof } from '../api/types.ts';
import type { WebSocket } from 'ws';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { connectionUrl } from './connection-url.ts';
import { terminalReasonFor } from './end-reason.ts';
import type { AccessProxy, CreateAccessProxy } from './local-proxy-port.ts';
import { Throttle } from './throttle.ts';
import type { AccessEndReason, AccessState, AccessStatus, ConnectionState, RecheckOutcome, TunnelNotice } from './types.ts';
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
  /** The duration asked for, reported for Access again. */
  duration?: string | number;
}

/** How long a re-check waits for the tunnel to answer a ping before it replaces the tunnel. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * One access session on this machine: the tunnel (reconnected with backoff while the session
 * is active), the local proxy on its port, the expiry timer and throttled status reports.
 * Emits 'status' (AccessStatus) at most once per `statusIntervalMs`.
 */
export class AccessSession extends EventEmitter<{ status: [AccessStatus]; tunnel: [TunnelNotice]; extended: [AccessStatus] }> {
  readonly id: string;
  readonly #opts: AccessSessionOptions;
  #created: CreateSessionResult;
  #expiresAt: Date;
  readonly #throttle: Throttle;
  /** The relay's last word on the gateway's link (gateway-status control messages). */
  #gatewayLinked: boolean | undefined;
  #connection: ConnectionState | undefined;
  #revokedBy: string | undefined;
  #ws: WebSocket | undefined;
  /** The current tunnel's key for direct streams (its `direct-streams` message); unset: the tunnel carries them. */
  #streamKey: string | undefined;
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
  #lostReason: string | undefined;
  #finishing: Promise<void> | undefined;

  constructor(opts: AccessSessionOptions) {
    super();
    this.#opts = opts;
    this.#created = opts.created;
    this.id = opts.created.session.id;
    this.#expiresAt = new Date(opts.created.session.expiresAt);
    this.#throttle = new Throttle(() => this.emit('status', this.status()), opts.statusIntervalMs);
  }

  get state(): AccessState {
    return this.#state;
  }

  /** The session's public key (the server issues the certificates of an extension for it). */
  get publicKeyPem(): string {
    return this.#opts.keyPair.publicKeyPem;
  }

  get expiresAt(): Date {
    return this.#expiresAt;
  }

  status(): AccessStatus {
    const { session } = this.#created;
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
      ...(this.#connection && { connection: { ...this.#connection } }),
      ...(this.#opts.duration !== undefined && { duration: this.#opts.duration }),
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
    this.#updateConnection();
    // Always said: the connection state may already read 'ready' (the gateway's status can
    // arrive before the proxy listens), and then #updateConnection reports nothing.
    this.#throttle.request();
  }

  /**
   * Extends the session in place: the server moves the expiry (within the policy) and issues
   * a certificate for the same key; the local proxy keeps listening and every open connection
   * carries on, new ones present the new certificate.
   */
  async extend(duration: string | number, mfa?: MfaProof): Promise<AccessStatus> {
    if (this.#finishing || this.#state !== 'ready') {
      throw new GatehouseError(ErrorCodes.SESSION_ENDED, 'this session is over; start a new one (Access again)');
    }
    const result = await this.#opts.api.extendSession(this.id, { duration, publicKeyPem: this.#opts.keyPair.publicKeyPem, ...(mfa && { mfa }) });
    if (this.#finishing) throw new GatehouseError(ErrorCodes.SESSION_ENDED, 'this session ended meanwhile; start a new one (Access again)');
    this.#applyExtension(result.session.expiresAt, result.certificatePem);
    return this.status();
  }

  /** A later expiry and its certificate (from our own extend call or, for an extension made elsewhere, the tunnel). */
  #applyExtension(expiresAtIso: string, certificatePem: string): void {
    const expiresAt = new Date(expiresAtIso);
    if (this.#finishing || !(expiresAt.getTime() > this.#expiresAt.getTime())) return;
    this.#created = { ...this.#created, session: { ...this.#created.session, expiresAt: expiresAtIso }, certificatePem };
    this.#expiresAt = expiresAt;
    this.#proxy?.extend(expiresAt, certificatePem);
    clearTimeout(this.#expiryTimer);
    this.#armExpiry();
    log.info({ sessionId: this.id, expiresAt: expiresAtIso }, 'session extended in place');
    this.#throttle.request();
    this.emit('extended', this.status());
  }

  /**
   * After sleep or a network change: asks the server whether the session still holds (ends it
   * here when not), then checks the tunnel answers a ping and replaces it when it does not.
   */
  async recheck(): Promise<RecheckOutcome> {
    const { session } = this.#created;
    const outcome = (o: RecheckOutcome['outcome'], reason?: string): RecheckOutcome => ({
      sessionId: this.id,
      resourceName: session.resource.name,
      accountName: session.account.name,
      outcome: o,
      ...(reason && { reason }),
    });
    if (this.#finishing || this.#state !== 'ready') {
      await this.#finishing;
      return outcome('ended', this.#connection?.reason);
    }
    if (Date.now() >= this.#expiresAt.getTime()) {
      await this.finish('expired');
      return outcome('ended', this.#connection?.reason);
    }
    try {
      const onServer = await this.#opts.api.getSession(this.id);
      if (onServer.status !== 'active') {
        if (onServer.revokedBy) this.#revokedBy = onServer.revokedBy;
        await this.finish(onServer.status === 'revoked' ? 'revoked' : onServer.status === 'expired' ? 'expired' : 'ended');
        return outcome('ended', this.#connection?.reason);
      }
    } catch (err) {
      const terminal = terminalReasonFor(err);
      if (terminal && terminal.reason !== 'error') {
        await this.finish(terminal.reason);
        return outcome('ended', this.#connection?.reason);
      }
      // the server is out of reach (network still coming up): the tunnel check below says the rest
      log.info({ sessionId: this.id, err: (err as Error).message }, 'could not re-check the session on the server');
    }
    if (this.#tunnelLost) {
      this.#reconnectNow();
      return outcome('reconnecting', this.#connection?.reason);
    }
    if (await this.#probe()) return outcome('ok');
    // the tunnel died in silence (a sleeping laptop's TCP connection): replace it now
    log.info({ sessionId: this.id }, 'tunnel did not answer after resume; reconnecting');
    const mux = this.#mux;
    if (mux) {
      this.#onTunnelClosed(mux, new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'the tunnel did not answer after the computer woke up'));
      void mux.close();
    }
    const back = await this.#waitForTunnel(PROBE_TIMEOUT_MS * 2);
    if (this.#finishing) return outcome('ended', this.#connection?.reason);
    return back ? outcome('reconnected') : outcome('reconnecting', this.#connection?.reason);
  }

  /** Ends the session here (and on the server when asked); idempotent. */
  finish(reason: AccessEndReason, opts: { endOnServer?: boolean; error?: unknown } = {}): Promise<void> {
    this.#finishing ??= this.#finish(reason, opts);
    return this.#finishing;
  }

  async #finish(reason: AccessEndReason, opts: { endOnServer?: boolean; error?: unknown }): Promise<void> {
    log.info({ sessionId: this.id, reason }, 'access session ending');
    // who revoked it, for the person: the server remembers (a short wait; unknown is said as "an admin")
    const whoRevoked =
      reason === 'revoked' && this.#revokedBy === undefined ? withDeadline(this.#opts.api.getSession(this.id), 2_000).catch(() => undefined) : undefined;
    this.#state = 'ending';
    this.#updateConnection();
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
    const revoked = await whoRevoked;
    if (revoked?.revokedBy) this.#revokedBy = revoked.revokedBy;
    this.#state = reason === 'error' ? 'error' : 'ended';
    this.#updateConnection();
    await this.#throttle.flush();
  }

  /**
   * A stream to the gateway for one client connection: a direct stream (a socket of its own,
   * TLS native at both ends) when the tunnel gave a key, else a stream inside the tunnel. A
   * route without direct streams (another replica, an older gateway or server) answers
   * DIRECT_STREAM_UNAVAILABLE once; this tunnel's connections then use the tunnel.
   */
  #openStream(meta: StreamOpenMeta): Duplex | Promise<Duplex> {
    const mux = this.#requireMux();
    const key = this.#streamKey;
    if (key === undefined) return mux.openStream(meta);
    return this.#opts.api.openDirectStream(this.id, key, meta).catch((err: unknown) => {
      if ((err as GatehouseError).code !== ErrorCodes.DIRECT_STREAM_UNAVAILABLE) throw err;
      if (this.#streamKey === key) {
        this.#streamKey = undefined;
        log.info({ sessionId: this.id, reason: (err as Error).message }, 'direct streams unavailable; connections go through the tunnel');
      }
      return this.#requireMux().openStream(meta);
    });
  }

  #requireMux(): Mux {
    const mux = this.#mux;
    if (!mux) {
      throw new GatehouseError(
        ErrorCodes.TUNNEL_CLOSED,
        this.#tunnelLost
          ? 'the connection to Gatehouse was lost and is being re-established; try again in a few seconds'
          : 'the tunnel to the Gatehouse server is not open',
      );
    }
    return mux;
  }

  async #connectTunnel(): Promise<void> {
    const ws = await this.#opts.api.openTunnel(this.id);
    this.#ws = ws;
    const mux = new Mux(ws, { initiator: true });
    mux.on('control', (msg) => this.#onControl(msg, mux));
    mux.on('close', (err) => this.#onTunnelClosed(mux, err));
    ws.resume();
    if (this.#finishing) {
      void mux.close();
      return;
    }
    this.#mux = mux;
  }

  #onControl(raw: ControlMessage, from: Mux): void {
    const parsed = parseControlMessage(raw);
    if (!parsed.ok) {
      log.debug({ sessionId: this.id, type: parsed.type, error: parsed.error }, 'control message ignored');
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'session-ended') {
      void this.finish(msg.reason);
    } else if (msg.type === 'session-extended' && msg.certificatePem !== undefined) {
      this.#applyExtension(msg.expiresAt, msg.certificatePem);
    } else if (msg.type === 'direct-streams') {
      // the key opens streams beside the tunnel it came on (the same replica); a new tunnel brings its own
      if (from === this.#mux || this.#mux === undefined) this.#streamKey = msg.key;
    } else if (msg.type === 'gateway-status') {
      log.info({ sessionId: this.id, connected: msg.connected }, 'gateway status');
      this.#gatewayLinked = msg.connected;
      this.#updateConnection();
    }
  }

  #onTunnelClosed(mux: Mux, err: GatehouseError): void {
    if (mux !== this.#mux || this.#finishing || this.#state !== 'ready') return;
    // Said in words by the CLI and shown by the desktop app (the 'tunnel' event), not as a log warning.
    log.info({ sessionId: this.id, err: err.message }, 'tunnel dropped; reconnecting');
    this.#mux = undefined;
    this.#streamKey = undefined;
    this.#tunnelLost = true;
    this.#lostReason = err.message;
    this.emit('tunnel', { sessionId: this.id, state: 'lost', attempt: 0, reason: err.message });
    this.#updateConnection();
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
        this.#updateConnection();
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

  /** Recomputes the connection state from the facts; a change gets a new `since` and a status event. */
  #updateConnection(): void {
    const next = this.#connectionNow();
    const prev = this.#connection;
    if (prev && prev.state === next.state && prev.reason === next.reason && prev.revokedBy === next.revokedBy) return;
    this.#connection = { ...next, since: prev && prev.state === next.state ? prev.since : new Date().toISOString() };
    if (!prev || prev.state !== next.state) log.info({ sessionId: this.id, state: next.state, reason: next.reason }, 'connection state');
    this.#throttle.request();
  }

  #connectionNow(): Omit<ConnectionState, 'since'> {
    if (this.#state === 'ended' || this.#state === 'error' || this.#state === 'ending') {
      return { state: 'ended', reason: endedReason(this.#endReason, this.#revokedBy, this.#error), ...(this.#revokedBy && { revokedBy: this.#revokedBy }) };
    }
    if (this.#tunnelLost) return { state: 'reconnecting', reason: `the connection to Gatehouse was lost (${this.#lostReason ?? 'network'}); reconnecting` };
    if (this.#gatewayLinked === false)
      return { state: 'gateway-offline', reason: 'the gateway in front of this database is not connected to Gatehouse; new connections fail until it is back' };
    return { state: 'ready' };
  }

  /** Reconnect at once (resume), instead of waiting for the backoff timer. */
  #reconnectNow(): void {
    if (this.#finishing || this.#reconnecting || !this.#tunnelLost) return;
    clearTimeout(this.#reconnectTimer);
    void this.#reconnect(0);
  }

  /** Whether the tunnel's WebSocket answers a ping within PROBE_TIMEOUT_MS. */
  #probe(): Promise<boolean> {
    const ws = this.#ws;
    if (!ws || !this.#mux || ws.readyState !== ws.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (alive: boolean) => {
        clearTimeout(timer);
        ws.off('pong', onPong);
        resolve(alive);
      };
      const onPong = () => done(true);
      const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
      ws.on('pong', onPong);
      try {
        ws.ping();
      } catch {
        done(false);
      }
    });
  }

  async #waitForTunnel(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.#finishing) return false;
      if (!this.#tunnelLost && this.#mux) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return !this.#tunnelLost;
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

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([work, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  clearTimeout(timer);
  return result;
}

/** Why a session ended, for people. */
function endedReason(reason: AccessEndReason | undefined, revokedBy: string | undefined, error: SerializedError | undefined): string {
  switch (reason) {
    case 'stopped':
      return 'stopped on this computer';
    case 'expired':
      return 'the session expired';
    case 'revoked':
      return `revoked by ${revokedBy ?? 'an admin'}`;
    case 'error':
      return error?.message ?? 'the session failed';
    default:
      return 'ended on the Gatehouse server';
  }
}
