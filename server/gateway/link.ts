import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { isGatehouseErrorLike } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { GatewayStreamMeta } from '../../proxy-core/src/tunnel/meta.ts';
import { Mux, type ControlMessage } from '../../proxy-core/src/tunnel/mux.ts';
import type { MuxStream } from '../../proxy-core/src/tunnel/stream.ts';
import { tunnelClientOptions } from '../../proxy-core/src/tunnel/ws-client-options.ts';
import { DIRECT_STREAMS_FEATURE, GATEWAY_FEATURES_HEADER } from '../../proxy-core/src/tunnel/direct-stream.ts';
import { backoffDelay, formatDelay } from './backoff.ts';
import type { GatewayIdentity } from './identity.ts';
import { linkAuthHeaders } from './link-auth.ts';

const log = createLogger('gateway.link');

/** Redials are at most this far apart, so the link is back within 5 s of the control plane. */
export const DEFAULT_MAX_BACKOFF_MS = 4_000;

export interface GatewayLinkOptions {
  /** The control plane, `http(s)://host[:port]` (the domain, or one replica's advertised URL). */
  domain: string;
  identity: GatewayIdentity;
  /** Ping interval; a link silent for two intervals is dropped and redialed. Default 15 s. */
  heartbeatMs?: number;
  /** Backoff ceiling between reconnect attempts. Default 4 s: back within 5 s of the control plane. */
  maxBackoffMs?: number;
  /** First backoff step. Default 250 ms. */
  baseBackoffMs?: number;
}

export type LinkState =
  | { state: 'idle' }
  | { state: 'connecting'; attempt: number }
  | { state: 'connected'; since: Date; attempts: number }
  | { state: 'waiting'; attempt: number; retryAt: Date; lastError?: string }
  | { state: 'closed' };

export interface GatewayLinkEvents {
  connected: [];
  disconnected: [{ code: number; reason: string }];
  stream: [MuxStream, GatewayStreamMeta];
  control: [ControlMessage];
}

/** Largest message the control plane sends: an OPEN with its meta, a DATA frame, a control message. */
const MAX_PAYLOAD = 1024 * 1024;

/**
 * The gateway's outbound link: dials `ws(s)://<domain>/api/v1/gateways/link` with a signed
 * single-use challenge, runs a `Mux` over it (the gateway is the initiator), pings it, and redials with
 * exponential backoff and full jitter whenever it drops.
 */
export class GatewayLink extends EventEmitter<GatewayLinkEvents> {
  private current: LinkState = { state: 'idle' };
  private ws: WebSocket | undefined;
  private mux: Mux | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  readonly url: string;
  /** The control plane's URL as configured (`--domain`, or a replica's advertised URL), for people. */
  readonly target: string;
  /** The control plane replica at the other end, once it has said so (`replicas` control message). */
  replicaId: string | undefined;
  /** Dial attempts and successful links since the process started (metrics). */
  readonly counters = { attempts: 0, connects: 0, disconnects: 0 };

  constructor(private readonly opts: GatewayLinkOptions) {
    super();
    const url = new URL('/api/v1/gateways/link', opts.domain);
    url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
    this.url = url.toString();
    this.target = opts.domain.replace(/\/+$/, '');
  }

  get state(): LinkState {
    return this.current;
  }

  get connected(): boolean {
    return this.current.state === 'connected';
  }

  start(): void {
    if (this.current.state !== 'idle') return;
    this.dial();
  }

  /**
   * Stops dialing and drops the socket, but can `start()` again later (a link that another
   * link to the same replica made redundant, or the seed link while direct links are up).
   */
  park(): void {
    if (this.current.state === 'closed' || this.current.state === 'idle') return;
    const wasConnected = this.connected;
    clearTimeout(this.retryTimer);
    this.current = { state: 'idle' };
    this.attempt = 0;
    const ws = this.ws;
    this.ws = undefined;
    this.mux = undefined;
    this.replicaId = undefined;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'redundant link');
      else ws.terminate();
    }
    if (wasConnected) this.emit('disconnected', { code: 1000, reason: 'redundant link' });
  }

  /** Sends a control message; false when the link is down (the caller keeps it for later). */
  sendControl(message: ControlMessage): boolean {
    if (!this.mux || !this.connected) return false;
    this.mux.sendControl(message);
    return true;
  }

  /** Closes the link and stops redialing. Idempotent. */
  async close(): Promise<void> {
    if (this.current.state === 'closed') return;
    const wasConnected = this.connected;
    this.current = { state: 'closed' };
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    await new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const force = setTimeout(() => ws.terminate(), 2000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1001, 'gateway shutting down');
    });
    this.mux = undefined;
    if (wasConnected) this.emit('disconnected', { code: 1001, reason: 'gateway shutting down' });
  }

  private dial(): void {
    if (this.current.state === 'closed') return;
    this.current = { state: 'connecting', attempt: this.attempt };
    this.counters.attempts += 1;
    // Each attempt answers a fresh single-use challenge (link-auth.ts).
    linkAuthHeaders(this.opts.domain, this.opts.identity).then(
      (headers) => this.openSocket(headers),
      (err: Error) => {
        if (this.current.state === 'closed') return;
        const cause = (err as { cause?: unknown }).cause;
        this.scheduleRedial(cause instanceof Error ? describeDialError(cause) : err.message, false);
      },
    );
  }

  private openSocket(headers: Record<string, string>): void {
    if (this.current.state === 'closed') return;
    const { identity } = this.opts;
    const ws = new WebSocket(this.url, {
      ...tunnelClientOptions(this.url),
      // this gateway dials back for direct streams (proxy-core/src/tunnel/direct-stream.ts)
      headers: { ...headers, [GATEWAY_FEATURES_HEADER]: DIRECT_STREAMS_FEATURE },
      maxPayload: MAX_PAYLOAD,
      handshakeTimeout: 15_000,
    });
    this.ws = ws;
    let lastError: string | undefined;
    let refused = false;

    ws.on('unexpected-response', (_req, res) => {
      void readRefusal(res).then((message) => {
        refused = true;
        lastError = `refused: ${message}`;
        ws.terminate();
      });
    });
    ws.on('error', (err) => {
      if (refused) return;
      lastError = describeDialError(err);
    });
    ws.once('open', () => {
      if (this.ws !== ws) return;
      const attempts = this.attempt + 1;
      this.attempt = 0;
      this.counters.connects += 1;
      const heartbeatMs = this.opts.heartbeatMs ?? 15_000;
      this.mux = new Mux(ws, { initiator: true, heartbeatIntervalMs: heartbeatMs, heartbeatTimeoutMs: 2 * heartbeatMs });
      this.mux.on('stream', (stream: MuxStream, meta: unknown) => this.emit('stream', stream, meta as GatewayStreamMeta));
      this.mux.on('control', (message) => this.emit('control', message));
      this.current = { state: 'connected', since: new Date(), attempts };
      log.info(
        { url: this.url, gatewayId: identity.gatewayId, attempts },
        `linked to the control plane at ${this.target}${attempts > 1 ? ` after ${attempts} attempts` : ''}`,
      );
      this.emit('connected');
    });
    ws.once('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return;
      const wasConnected = this.current.state === 'connected';
      this.mux = undefined;
      this.ws = undefined;
      this.replicaId = undefined;
      // Redial first, so that whoever hears 'disconnected' sees the link as not connected
      // (and may park or close it, which cancels the redial).
      this.scheduleRedial(wasConnected ? undefined : lastError, wasConnected);
      if (wasConnected) {
        this.counters.disconnects += 1;
        const why = reason.length > 0 ? reason.toString() : `close code ${code}`;
        log.warn({ url: this.url, code, reason: reason.toString() }, `link to the control plane at ${this.target} lost (${why}); reconnecting`);
        this.emit('disconnected', { code, reason: reason.toString() });
      }
    });
  }

  /**
   * Redials forever. The timer is deliberately not unref()ed: it is what keeps a gateway
   * process alive while the control plane is away. One log line per failed attempt.
   */
  private scheduleRedial(lastError: string | undefined, justLost: boolean): void {
    if (this.current.state === 'closed' || this.current.state === 'idle') return;
    const delay = backoffDelay(this.attempt, this.opts.baseBackoffMs ?? 250, this.opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS);
    this.attempt += 1;
    this.current = { state: 'waiting', attempt: this.attempt, retryAt: new Date(Date.now() + delay), ...(lastError !== undefined && { lastError }) };
    if (!justLost) {
      log.warn(
        { url: this.url, attempt: this.attempt, retryInMs: delay, err: lastError },
        `cannot reach the control plane at ${this.target} (${lastError ?? 'connection closed'}); attempt ${this.attempt} failed, retrying in ${formatDelay(delay)}`,
      );
    }
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }
}

async function readRefusal(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res) {
      chunks.push(chunk as Buffer);
      if (chunks.reduce((n, c) => n + c.length, 0) > 16_384) break;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: unknown };
    if (isGatehouseErrorLike(body.error)) return `${body.error.code}: ${body.error.message}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.statusCode ?? 0}`;
}

/** "connection refused", "timed out": the reason of a failed dial, without a stack. */
function describeDialError(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset'; // undici: the peer closed before answering
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${String(code)})`;
  if (code === 'ETIMEDOUT') return 'timed out';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  return err.message;
}
