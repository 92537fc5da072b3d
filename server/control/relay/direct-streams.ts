/**
 * The relay's end of direct streams (proxy-core/src/tunnel/direct-stream.ts): a client's
 * upgrade waits, unanswered, until the gateway dials back with the request's single-use token;
 * then both get 101 and the two sockets are spliced. The relay never parses what flows: it is
 * the end-to-end TLS between the local proxy and the gateway.
 *
 * Fail closed: a session that ends (stop, revocation, expiry) loses its direct streams here
 * after the grace that lets the gateway's goodbye (57P01) through, whatever the gateway does.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ErrorCodes, type ErrorCode } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { DIRECT_STREAM_PROTOCOL } from '../../../proxy-core/src/tunnel/direct-stream.ts';
import { timerDelay } from '../../../proxy-core/src/timers.ts';
import type { RelayStats } from './counters.ts';
import type { GatewayLinkConnection } from './gateway-link.ts';
import { httpStatusOf } from '../api/errors.ts';
import { rejectUpgrade, type UpgradeRefusal } from './http-reject.ts';
import type { GatewayStreamMeta } from './types.ts';

const log = createLogger('relay.direct');

const SWITCHING = Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${DIRECT_STREAM_PROTOCOL}\r\n\r\n`);
/** Relayed sources pause at this much buffered toward the other side (as tunnel streams do). */
const HIGH_WATER = 256 * 1024;
/** After one side ended cleanly, the other gets this long to end too. */
const HALF_CLOSED_GRACE_MS = 30_000;

export interface DirectStreamsOptions {
  /** How long a client waits for its gateway to dial back; then it is told to use the tunnel. Default 5 s. */
  dialTimeoutMs?: number;
  /** Most direct streams of one session waiting for their gateway at once. Default 64. */
  maxPendingPerSession?: number;
  /** After a session ends, how long its streams stay for the gateway's goodbye. */
  endGraceMs: number;
  /** This replica's advertised URL, where gateways dial back (undefined: the URL of their link). */
  dialBackUrl?: () => string | undefined;
}

export interface DirectStreamRequest {
  sessionId: string;
  expiresAt: Date;
  meta: GatewayStreamMeta;
}

interface Pending {
  token: string;
  request: DirectStreamRequest;
  gatewayId: string;
  client: Duplex;
  head: Buffer;
  timer: NodeJS.Timeout;
}

interface Pair {
  sessionId: string;
  client: Duplex;
  gateway: Duplex;
  expiry?: NodeJS.Timeout;
}

export class DirectStreams {
  private readonly pending = new Map<string, Pending>();
  private readonly pairs = new Map<string, Set<Pair>>();
  private readonly dialTimeoutMs: number;
  private readonly maxPendingPerSession: number;

  constructor(
    private readonly counters: RelayStats,
    private readonly options: DirectStreamsOptions,
  ) {
    this.dialTimeoutMs = options.dialTimeoutMs ?? 5_000;
    this.maxPendingPerSession = options.maxPendingPerSession ?? 64;
  }

  /** Asks the gateway of `link` to dial back for the client's socket, which waits unanswered until then. */
  request(link: GatewayLinkConnection, client: Duplex, head: Buffer, request: DirectStreamRequest): void {
    let waiting = 0;
    for (const p of this.pending.values()) if (p.request.sessionId === request.sessionId) waiting += 1;
    if (waiting >= this.maxPendingPerSession) {
      this.counters.streamsRefused += 1;
      return rejectUpgrade(
        client,
        streamRefusal(ErrorCodes.RATE_LIMITED, `more than ${this.maxPendingPerSession} connections of this session are opening at once`),
      );
    }
    const token = randomBytes(24).toString('base64url');
    const timer = setTimeout(
      () => this.fail(token, ErrorCodes.DIRECT_STREAM_UNAVAILABLE, 'the gateway did not dial back in time; open the connection through the tunnel'),
      this.dialTimeoutMs,
    );
    timer.unref();
    this.pending.set(token, { token, request, gatewayId: link.gatewayId, client, head, timer });
    client.once('close', () => this.forget(token));
    const url = this.options.dialBackUrl?.();
    link.sendControl({ type: 'dial', token, ...(url !== undefined && { url }), meta: { ...request.meta } });
  }

  /** The gateway's dial-back for `token`: both sides get 101 and are spliced. */
  accept(token: string, gateway: Duplex, head: Buffer): void {
    const p = this.pending.get(token);
    if (!p) return rejectUpgrade(gateway, streamRefusal(ErrorCodes.NOT_FOUND, 'no direct stream is waiting for this token (it expired or was used)'));
    this.forget(token);
    if (p.client.destroyed) {
      gateway.destroy();
      return;
    }
    gateway.write(SWITCHING);
    p.client.write(SWITCHING);
    if (p.head.length > 0) gateway.write(p.head);
    if (head.length > 0) p.client.write(head);
    this.splice(p.request, p.client, gateway);
  }

  /** The gateway refused the stream of `token` (only the gateway that was asked may say so). */
  refused(gatewayId: string, token: string, code: string, message: string): void {
    if (this.pending.get(token)?.gatewayId !== gatewayId) return;
    this.fail(token, code.startsWith('GATEHOUSE_ERR_') ? (code as ErrorCode) : ErrorCodes.FORBIDDEN, message);
  }

  /** A gateway's link on this replica dropped: its pending requests go through the tunnel instead. */
  gatewayLost(gatewayId: string): void {
    for (const p of [...this.pending.values()]) {
      if (p.gatewayId === gatewayId) this.fail(p.token, ErrorCodes.GATEWAY_UNAVAILABLE, 'the gateway of this database is not connected');
    }
  }

  /** The session is over: pending requests are refused, open streams close after the grace. */
  endSession(sessionId: string, code: ErrorCode, message: string): void {
    for (const p of [...this.pending.values()]) if (p.request.sessionId === sessionId) this.fail(p.token, code, message);
    const pairs = this.pairs.get(sessionId);
    if (!pairs) return;
    const timer = setTimeout(() => {
      for (const pair of pairs) destroyPair(pair);
    }, this.options.endGraceMs);
    timer.unref();
  }

  /** The session ends later: its open streams stay until then. */
  extendSession(sessionId: string, expiresAt: Date): void {
    for (const pair of this.pairs.get(sessionId) ?? []) this.armExpiry(pair, expiresAt);
  }

  /** How many direct streams are open, and how many wait for their gateway. */
  get size(): { open: number; pending: number } {
    let open = 0;
    for (const set of this.pairs.values()) open += set.size;
    return { open, pending: this.pending.size };
  }

  close(): void {
    for (const p of [...this.pending.values()]) this.fail(p.token, ErrorCodes.GATEWAY_UNAVAILABLE, 'the server is shutting down');
    for (const set of this.pairs.values()) for (const pair of set) destroyPair(pair);
  }

  private fail(token: string, code: ErrorCode, message: string): void {
    const p = this.pending.get(token);
    if (!p) return;
    this.forget(token);
    this.counters.streamsRefused += 1;
    log.info({ sessionId: p.request.sessionId, code }, `direct stream refused: ${message}`);
    rejectUpgrade(p.client, streamRefusal(code, message));
  }

  private forget(token: string): void {
    const p = this.pending.get(token);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(token);
  }

  private splice(request: DirectStreamRequest, client: Duplex, gateway: Duplex): void {
    const pair: Pair = { sessionId: request.sessionId, client, gateway };
    let set = this.pairs.get(pair.sessionId);
    if (!set) this.pairs.set(pair.sessionId, (set = new Set()));
    set.add(pair);
    this.armExpiry(pair, request.expiresAt);
    this.counters.streamsOpen += 1;
    this.counters.streamsTotal += 1;
    gateway.on('error', () => gateway.destroy());
    pipe(client, gateway, (n) => (this.counters.bytesClientToGateway += n));
    pipe(gateway, client, (n) => (this.counters.bytesGatewayToClient += n));
    let closed = 0;
    const onClose = () => {
      closed += 1;
      if (closed === 1) {
        // one side is gone: the other follows (at once unless the first ended cleanly)
        const other = client.destroyed ? gateway : client;
        const first = client.destroyed ? client : gateway;
        if (!first.readableEnded) other.destroy();
        else setTimeout(() => other.destroy(), HALF_CLOSED_GRACE_MS).unref();
        return;
      }
      clearTimeout(pair.expiry);
      set.delete(pair);
      if (set.size === 0) this.pairs.delete(pair.sessionId);
      this.counters.streamsOpen -= 1;
    };
    client.once('close', onClose);
    gateway.once('close', onClose);
  }

  private armExpiry(pair: Pair, expiresAt: Date): void {
    clearTimeout(pair.expiry);
    // the gateway ends the session's connections at expiry with 57P01; this is the backstop
    pair.expiry = setTimeout(() => destroyPair(pair), timerDelay(expiresAt.getTime() - Date.now() + this.options.endGraceMs));
    pair.expiry.unref();
  }
}

/**
 * The answer to a refused direct stream: the code and message the client's local proxy turns
 * into the PG error, as a tunnel stream's RST carries them (502 for codes with no HTTP status).
 */
export function streamRefusal(code: ErrorCode, message: string): UpgradeRefusal {
  return { status: httpStatusOf(code) ?? 502, code, message };
}

function destroyPair(pair: Pair): void {
  pair.client.destroy();
  pair.gateway.destroy();
}

/** One direction: bytes as they come, paused while the other side has HIGH_WATER buffered. */
function pipe(from: Duplex, to: Duplex, count: (n: number) => void): void {
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    to.write(chunk);
    if (to.writableLength >= HIGH_WATER) from.pause();
  });
  to.on('drain', () => from.resume());
  from.once('end', () => to.end());
}
