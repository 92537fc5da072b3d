/**
 * One client connection to the local proxy: negotiate (SSL/GSS/cancel), check the
 * StartupMessage, open a tunnel stream with end-to-end TLS to the gateway, then splice bytes
 * both ways as they come. Each direction is walked once (protocol/message-walker.ts): client →
 * server to count statements, server → client to find the boundaries where a notice or a final
 * ErrorResponse can be injected between two server messages.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike } from '../errors.ts';
import { createLogger } from '../log.ts';
import { FrontendCode } from '../protocol/constants.ts';
import { MessageWalker } from '../protocol/message-walker.ts';
import { InjectingForwarder } from '../protocol/injecting-forwarder.ts';
import { coalesceWritesThisTurn, relayWrite } from '../write-path.ts';
import type { StreamOpenMeta } from '../tunnel/meta.ts';
import {
  connectionFailure,
  connectionLost,
  protocolViolation,
  replicationRefused,
  sessionEndedError,
  wrongDatabase,
  localPasswordFailed,
  peerRefused,
  type EndReason,
} from './client-errors.ts';
import { negotiate, type Negotiated } from './negotiate.ts';
import type { LocalPasswordVerifier } from './local-password.ts';
import type { LocalPeer, PeerVerdict } from './peer-identity.ts';

const log = createLogger('local-proxy');

/** How long a client may take to send its StartupMessage (PostgreSQL: 60 s). */
export const STARTUP_TIMEOUT_MS = 30_000;
/** After the final ErrorResponse, the socket is destroyed if still open after this. */
const CLOSE_GRACE_MS = 900;
const CANCEL_TIMEOUT_MS = 5_000;
const GATEWAY_HANDSHAKE_TIMEOUT_MS = 15_000;
const FALSE_VALUES = new Set(['', '0', 'false', 'off', 'no']);

/** What a connection needs from its proxy. */
export interface ConnectionHost {
  readonly database: string;
  readonly localTls: boolean;
  /** TLS toward the gateway over a tunnel stream (see startGatewayTls). */
  startGatewayTls(stream: Duplex): TLSSocket;
  /** A stream to the gateway: inside the tunnel (at once) or a direct stream (once the relay paired it). */
  openStream(meta: StreamOpenMeta): Duplex | Promise<Duplex>;
  /** Set once the session is over: new connections are refused with it. */
  endReason(): EndReason | undefined;
  /** The expiry warning, once due (sent to every connection once). */
  expiryNotice(): Buffer | undefined;
  count(stat: 'statements' | 'bytesIn' | 'bytesOut', n: number): void;
  /** May this connection's OS user use the session (peer-identity.ts)? */
  checkPeer(socket: Socket): Promise<PeerVerdict>;
  /** Set in local password mode: every client proves the session's local password first. */
  readonly localPassword: LocalPasswordVerifier | undefined;
}

type State = 'negotiating' | 'connecting' | 'open' | 'closing' | 'closed';

export class ClientConnection {
  private state: State = 'negotiating';
  /** The socket that speaks PG with the client (the raw socket or TLS over it). */
  private client: Duplex;
  private gateway: TLSSocket | undefined;
  /** Server → client: walked once, with a notice or a final error injected between two messages. */
  private readonly fromServer = new InjectingForwarder(new MessageWalker(), (buf) => this.toClient(buf));
  private serverAnswered = false;
  private noticeSent = false;
  private forceTimer: NodeJS.Timeout | undefined;
  private readonly counter = new MessageWalker(
    () => 0,
    (code) => {
      if (code === FrontendCode.Query || code === FrontendCode.Sync) this.host.count('statements', 1);
    },
  );
  private counting = true;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    readonly id: number,
    private readonly raw: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.client = raw;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    raw.setNoDelay(true);
    raw.on('error', (err) => log.debug({ err, id }, 'client socket error'));
    raw.once('close', () => this.onClientClosed());
  }

  get clientAddress(): string {
    return `${this.raw.remoteAddress ?? '127.0.0.1'}:${this.raw.remotePort ?? 0}`;
  }

  async run(): Promise<void> {
    // Who connects is looked up while the client negotiates; nothing reaches the gateway before.
    const verdict = this.host.checkPeer(this.raw).catch((err: unknown): PeerVerdict => {
      log.warn({ err, id: this.id }, 'could not check the OS user of a connection; refusing it');
      return { allowed: false, reason: 'the local proxy could not tell which OS user opened this connection, so it refuses it' };
    });
    let neg: Negotiated;
    try {
      neg = await negotiate(this.raw, { localTls: this.host.localTls, timeoutMs: STARTUP_TIMEOUT_MS }, (s) => {
        this.client = s;
        s.on('error', (err) => log.debug({ err, id: this.id }, 'client TLS error'));
        s.once('close', () => this.onClientClosed());
      });
    } catch (err) {
      this.refuseBeforeStartup(err);
      return this.closed;
    }
    if (this.state !== 'negotiating') return this.closed;
    const peer = await verdict;
    if (this.state !== 'negotiating') return this.closed;
    if (!peer.allowed) {
      log.warn({ id: this.id, uid: peer.peer?.uid, user: peer.peer?.user }, 'refused a connection from another OS user');
      if (neg.kind === 'cancel') this.destroy();
      else this.refuse(peerRefused(peer.reason));
      return this.closed;
    }
    if (neg.kind === 'cancel') {
      await this.forwardCancel(neg.packet);
      return this.closed;
    }
    const refusal = this.checkStartup(neg.startup.parameters);
    if (refusal) {
      this.refuse(refusal);
      return this.closed;
    }
    let rest = neg.rest;
    if (this.host.localPassword) {
      try {
        rest = await this.host.localPassword.authenticate(this.client, neg.rest, STARTUP_TIMEOUT_MS);
      } catch (err) {
        log.info({ id: this.id, err: (err as Error).message }, "refused a connection without the session's local password");
        this.refuse(localPasswordFailed((err as Error).message));
        return this.closed;
      }
      if (this.state !== 'negotiating') return this.closed;
    }
    this.connect(neg.packet, rest, neg.startup.parameters, peer.peer);
    return this.closed;
  }

  /** Injects a NoticeResponse at the next server message boundary. */
  notify(notice: Buffer): void {
    // before the server's first bytes the notice is picked up from the host when they come
    if (this.state !== 'open' || this.noticeSent || !this.serverAnswered) return;
    this.noticeSent = true;
    this.fromServer.atNextBoundary(() => {
      this.client.write(notice);
      return 'continue';
    });
  }

  /** Ends the connection with FATAL 57P01, at a message boundary, within a second. */
  terminate(reason: EndReason): void {
    if (this.state === 'negotiating') return; // refused with the reason once it says who it is
    if (this.state === 'connecting') return this.refuse(sessionEndedError(reason));
    if (this.state !== 'open') return;
    if (!this.serverAnswered) return this.refuse(sessionEndedError(reason));
    this.forceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    const error = sessionEndedError(reason);
    this.fromServer.atNextBoundary(() => {
      this.client.write(error);
      this.state = 'closing';
      this.gateway?.destroy();
      this.client.end();
      return 'stop';
    });
  }

  destroy(): void {
    this.gateway?.destroy();
    this.client.destroy();
    this.raw.destroy();
  }

  // ---- before the gateway ----------------------------------------------------------

  private checkStartup(params: Record<string, string>): Buffer | undefined {
    const ended = this.host.endReason();
    if (ended) return sessionEndedError(ended);
    if (params.database !== undefined && params.database !== '' && params.database !== this.host.database) {
      return wrongDatabase(params.database, this.host.database);
    }
    if (params.replication !== undefined && !FALSE_VALUES.has(params.replication.toLowerCase())) return replicationRefused();
    return undefined;
  }

  private refuseBeforeStartup(err: unknown): void {
    const code = isGatehouseErrorLike(err) ? err.code : undefined;
    log.debug({ err, id: this.id }, 'client refused before startup');
    if (code === ErrorCodes.PROTOCOL || code === ErrorCodes.TIMEOUT) {
      this.refuse(protocolViolation((err as Error).message));
    } else {
      this.destroy();
    }
  }

  /** Sends one final ErrorResponse and closes. */
  private refuse(error: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.gateway?.destroy();
    if (!this.client.destroyed && this.client.writable) this.client.end(error);
    this.forceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
  }

  private async forwardCancel(packet: Buffer): Promise<void> {
    this.state = 'closing';
    try {
      const gw = this.host.startGatewayTls(await this.host.openStream({ kind: 'cancel' }));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => gw.destroy(), CANCEL_TIMEOUT_MS);
        gw.once('secureConnect', () => gw.end(packet));
        gw.on('error', (err: Error) => log.info({ err: err.message }, 'cancel request could not be forwarded'));
        gw.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        gw.resume();
      });
    } catch (err) {
      log.info({ err }, 'cancel request could not be forwarded');
    }
    // PostgreSQL closes a cancel connection without a reply
    this.client.end();
    this.forceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
  }

  // ---- through the gateway ---------------------------------------------------------

  private connect(startupPacket: Buffer, rest: Buffer, params: Record<string, string>, peer: LocalPeer | undefined): void {
    this.state = 'connecting';
    const meta: StreamOpenMeta = { kind: 'pg', clientAddress: this.clientAddress };
    if (params.application_name) meta.applicationName = params.application_name;
    if (params.user) meta.clientUser = params.user;
    // For the session log's connect event: which OS user and process connected (when known).
    if (peer?.user !== undefined) meta.clientOsUser = peer.user;
    else if (peer) meta.clientOsUser = `uid ${peer.uid}`;
    if (peer?.pid !== undefined) meta.clientPid = peer.pid;
    if (peer?.comm !== undefined) meta.clientProcess = peer.comm;
    let opened: Duplex | Promise<Duplex>;
    try {
      opened = this.host.openStream(meta);
    } catch (err) {
      return this.refuse(connectionFailure(describe(err)));
    }
    if (!(opened instanceof Promise)) return this.startGateway(opened, startupPacket, rest);
    opened.then(
      (stream) => {
        // the client may have left while the relay paired the stream
        if (this.state !== 'connecting') stream.destroy();
        else this.startGateway(stream, startupPacket, rest);
      },
      (err: unknown) => this.refuse(errorForEarlyFailure(err)),
    );
  }

  private startGateway(stream: Duplex, startupPacket: Buffer, rest: Buffer): void {
    const gw = this.host.startGatewayTls(stream);
    this.gateway = gw;
    const handshakeTimer = setTimeout(
      () =>
        gw.destroy(new GatehouseError(ErrorCodes.TIMEOUT, `the gateway did not complete the TLS handshake within ${GATEWAY_HANDSHAKE_TIMEOUT_MS / 1000} s`)),
      GATEWAY_HANDSHAKE_TIMEOUT_MS,
    );
    gw.once('secureConnect', () => clearTimeout(handshakeTimer));
    gw.once('close', () => clearTimeout(handshakeTimer));
    stream.on('error', (err) => gw.destroy(err));
    stream.once('close', () => setImmediate(() => gw.destroy()));
    gw.once('secureConnect', () => {
      if (this.state !== 'connecting') return;
      this.state = 'open';
      gw.write(startupPacket);
      if (rest.length > 0) this.fromClient(rest);
      this.client.on('data', (chunk: Buffer) => this.fromClient(chunk));
      this.client.on('end', () => gw.end());
      this.client.resume();
    });
    gw.on('data', (chunk: Buffer) => this.fromGateway(chunk));
    gw.on('end', () => {
      if (this.state === 'open') this.client.end();
    });
    gw.on('drain', () => this.client.resume());
    this.client.on('drain', () => gw.resume());
    let failure: unknown;
    gw.on('error', (err: Error) => {
      failure ??= err;
    });
    gw.once('close', () => this.onGatewayClosed(failure));
  }

  private fromClient(chunk: Buffer): void {
    if (this.state !== 'open' || !this.gateway) return;
    this.host.count('bytesIn', chunk.length);
    if (this.counting) {
      try {
        this.counter.push(chunk);
      } catch {
        this.counting = false; // not our job to judge; the server will
      }
    }
    if (!relayWrite(this.gateway, chunk)) this.client.pause();
  }

  private fromGateway(chunk: Buffer): void {
    if (this.state !== 'open' && this.state !== 'connecting') return;
    this.host.count('bytesOut', chunk.length);
    try {
      this.fromServer.push(chunk);
    } catch (err) {
      log.warn({ err, id: this.id }, 'unparseable server stream; closing the connection');
      return this.destroy();
    }
    if (this.fromServer.isStopped) return;
    if (!this.serverAnswered) {
      // injections only ever follow the server's first bytes (AuthenticationOk comes first)
      this.serverAnswered = true;
      const notice = this.host.expiryNotice();
      if (notice) this.notify(notice);
    }
  }

  private toClient(buf: Buffer): void {
    if (buf.length === 0) return;
    // One TLS record of the tunnel decrypts to one chunk; a turn's chunks go out as one write.
    coalesceWritesThisTurn(this.client);
    if (!relayWrite(this.client, buf)) this.gateway?.pause();
  }

  private onGatewayClosed(err: unknown): void {
    if (this.state === 'connecting' || (this.state === 'open' && !this.serverAnswered)) {
      return this.refuse(errorForEarlyFailure(err));
    }
    if (this.state === 'open') {
      this.state = 'closing';
      if (err && this.fromServer.atBoundary) this.client.write(connectionLost(describe(err)));
      this.client.end();
      this.forceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    }
  }

  private onClientClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.client.destroy();
    clearTimeout(this.forceTimer);
    this.gateway?.destroy();
    this.raw.destroy();
    this.resolveClosed();
  }
}

/** The ErrorResponse for a gateway path that failed before the server said anything. */
function errorForEarlyFailure(err: unknown): Buffer {
  const code = isGatehouseErrorLike(err) ? err.code : undefined;
  if (code === ErrorCodes.SESSION_EXPIRED) return sessionEndedError('expired');
  if (code === ErrorCodes.SESSION_REVOKED) return sessionEndedError('revoked');
  if (code === ErrorCodes.SESSION_ENDED) return sessionEndedError('ended');
  if (!err) return connectionFailure('the gateway closed the connection before the database answered');
  return connectionFailure(describe(err));
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return 'the tunnel to the gateway closed';
  const tlsCode = (err as { code?: unknown }).code;
  if (typeof tlsCode === 'string' && (tlsCode.startsWith('ERR_TLS') || tlsCode.startsWith('ERR_SSL') || /CERT|SIGNATURE|ISSUER/.test(tlsCode))) {
    return `end-to-end TLS with the gateway failed (${err.message})`;
  }
  if (err instanceof GatehouseError) return err.message;
  return err.message || 'the tunnel to the gateway closed';
}
