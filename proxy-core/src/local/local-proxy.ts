/**
 * The local proxy: a PG listener on 127.0.0.1 for one access session. Each client
 * connection gets its own tunnel stream with end-to-end TLS to the gateway
 * (docs/architecture.md, "Client core"). Clients never see a password prompt.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { startGatewayTls } from '../tls/session-tls.ts';
import type { StreamOpenMeta } from '../tunnel/meta.ts';
import { expiryNotice, type EndReason } from './client-errors.ts';
import { ClientConnection, type ConnectionHost } from './client-connection.ts';
import { LocalPasswordVerifier } from './local-password.ts';
import { defaultPeerCheck, type PeerCheck } from './peer-identity.ts';
import { MAX_TIMER_MS } from '../timers.ts';

const log = createLogger('local-proxy');

/** Open connections are warned this long before the session expires. */
export const EXPIRY_WARNING_MS = 5 * 60_000;
/** At most 4 'stats' events per second. */
const STATS_INTERVAL_MS = 250;
/** setTimeout's limit; longer waits re-arm. */

export interface LocalProxyOptions {
  host?: '127.0.0.1';
  /** 0 picks a free port. */
  port: number;
  /** The session's database; a client asking for another one is refused (3D000). */
  database: string;
  openStream: (meta: StreamOpenMeta) => Duplex | Promise<Duplex>;
  /** Session identity for the end-to-end TLS with the gateway. */
  tls: { keyPem: string; certPem: string; caPem: string; gatewayId: string };
  expiresAt: Date;
  /** Answer SSLRequest with 'S' (self-signed certificate). Default true. */
  localTls?: boolean;
  /**
   * Which local OS users may connect (issue 10 item 4). Default: on Linux only the user running
   * the proxy (others get FATAL 28000); elsewhere anyone, with a warning (peer-identity.ts).
   */
  peerCheck?: PeerCheck;
  /** Local password mode for shared machines: every client proves this password (SCRAM) first. */
  localPassword?: string;
}

/** bytesIn: from clients toward the database; bytesOut: toward clients. */
export interface LocalProxyStats {
  connections: number;
  statements: number;
  bytesIn: number;
  bytesOut: number;
}

export interface LocalProxyEvents {
  stats: [LocalProxyStats];
  connection: [{ id: number; clientAddress: string }];
  closed: [];
}

const CLIENT_SOCKET_BUFFER = 64 * 1024;

export class LocalProxy extends EventEmitter<LocalProxyEvents> {
  private options: LocalProxyOptions;
  private readonly host: ConnectionHost;
  private readonly connections = new Set<ClientConnection>();
  private readonly counters = { statements: 0, bytesIn: 0, bytesOut: 0 };
  private server: Server | undefined;
  private ended: EndReason | undefined;
  private warned = false;
  private closing: Promise<void> | undefined;
  private nextId = 1;
  private warnTimer: NodeJS.Timeout | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private lastStatsAt = 0;

  constructor(options: LocalProxyOptions) {
    super();
    if (options.host !== undefined && options.host !== '127.0.0.1') {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'the local proxy only listens on 127.0.0.1');
    }
    this.options = options;
    this.host = {
      database: options.database,
      localTls: options.localTls ?? true,
      startGatewayTls: (stream) => startGatewayTls(stream, this.options.tls),
      checkPeer: options.peerCheck ?? defaultPeerCheck(),
      localPassword: options.localPassword !== undefined ? new LocalPasswordVerifier(options.localPassword) : undefined,
      openStream: (meta) => this.options.openStream(meta),
      endReason: () => this.ended,
      expiryNotice: () => (this.warned && !this.ended ? expiryNotice(this.options.expiresAt) : undefined),
      count: (stat, n) => {
        this.counters[stat] += n;
        this.statsChanged();
      },
    };
  }

  /** Starts listening; resolves with the port. */
  async listen(): Promise<number> {
    if (this.server) throw new GatehouseError(ErrorCodes.CONFLICT, 'local proxy is already listening');
    // 64 KiB buffers: one tunnel frame decrypts to up to four 16 KiB TLS records, and they
    // should reach the client in one write, not four (see coalesceWritesThisTurn).
    const server = createServer({ noDelay: true, highWaterMark: CLIENT_SOCKET_BUFFER }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.server = undefined;
        if (err.code === 'EADDRINUSE') {
          reject(
            new GatehouseError(
              ErrorCodes.PORT_IN_USE,
              `port ${this.options.port} on 127.0.0.1 is already in use; choose another port or stop the program using it`,
              { cause: err },
            ),
          );
        } else reject(err);
      });
      server.listen({ host: '127.0.0.1', port: this.options.port }, () => resolve());
    });
    server.on('error', (err) => log.error({ err }, 'listener error'));
    this.armExpiry();
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** The session is over: refuse new connections, close open ones within a second. */
  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = reason;
    this.clearTimers();
    log.info({ reason, connections: this.connections.size }, 'session ended; closing connections');
    for (const c of this.connections) c.terminate(reason);
  }

  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  stats(): LocalProxyStats {
    return { connections: this.connections.size, ...this.counters };
  }

  private async shutdown(): Promise<void> {
    this.end('stopped');
    const server = this.server;
    const listenerClosed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.race([Promise.all([...this.connections].map((c) => c.closed)), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    for (const c of this.connections) c.destroy();
    await listenerClosed;
    clearTimeout(this.statsTimer);
    this.emit('closed');
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new ClientConnection(this.nextId++, socket, this.host);
    this.connections.add(conn);
    this.emit('connection', { id: conn.id, clientAddress: conn.clientAddress });
    this.statsChanged();
    conn.run().catch((err) => log.error({ err }, 'connection failed unexpectedly'));
    void conn.closed.then(() => {
      this.connections.delete(conn);
      this.statsChanged();
    });
  }

  /**
   * The session was extended in place: a later expiry and the certificate new connections
   * present to the gateway. Open connections carry on (their TLS is already set up).
   */
  extend(expiresAt: Date, certPem: string): void {
    if (this.ended || expiresAt.getTime() <= this.options.expiresAt.getTime()) return;
    this.options = { ...this.options, expiresAt, tls: { ...this.options.tls, certPem } };
    this.warned = false;
    if (this.server) this.armExpiry();
  }

  private armExpiry(): void {
    const expiresAt = this.options.expiresAt.getTime();
    const at = (when: number, fn: () => void): NodeJS.Timeout => {
      const delay = when - Date.now();
      if (delay > MAX_TIMER_MS) return setTimeout(() => this.armExpiry(), MAX_TIMER_MS);
      return setTimeout(fn, Math.max(0, delay));
    };
    clearTimeout(this.warnTimer);
    clearTimeout(this.expireTimer);
    this.warnTimer = at(expiresAt - EXPIRY_WARNING_MS, () => this.warn());
    this.expireTimer = at(expiresAt, () => this.end('expired'));
    this.warnTimer.unref();
    this.expireTimer.unref();
  }

  private warn(): void {
    if (this.warned || this.ended) return;
    this.warned = true;
    const notice = expiryNotice(this.options.expiresAt);
    for (const c of this.connections) c.notify(notice);
  }

  private clearTimers(): void {
    clearTimeout(this.warnTimer);
    clearTimeout(this.expireTimer);
  }

  private statsChanged(): void {
    if (this.statsTimer) return;
    const wait = Math.max(0, this.lastStatsAt + STATS_INTERVAL_MS - Date.now());
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      this.lastStatsAt = Date.now();
      this.emit('stats', this.stats());
    }, wait);
    this.statsTimer.unref();
  }
}
