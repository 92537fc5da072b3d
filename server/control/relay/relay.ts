import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCodes, GatehouseError, type ErrorCode } from '../../../proxy-core/src/errors.ts';
import { SESSION_END } from '../../../proxy-core/src/tunnel/session-end.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { FrameType, MAX_FRAME_LENGTH, encodeFrame } from '../../../proxy-core/src/tunnel/frames.ts';
import { parseClientOpenMeta } from '../../../proxy-core/src/tunnel/meta.ts';
import {
  DIRECT_STREAMS_FEATURE,
  GATEWAY_FEATURES_HEADER,
  STREAM_KEY_HEADER,
  STREAM_META_HEADER,
  decodeStreamMeta,
} from '../../../proxy-core/src/tunnel/direct-stream.ts';
import { DirectStreams, streamRefusal } from './direct-streams.ts';
import { emptyStats, type RelayStats } from './counters.ts';
import { GatewayLinkConnection } from './gateway-link.ts';
import { Heartbeat } from './heartbeat.ts';
import { refusalFor, rejectUpgrade } from './http-reject.ts';
import { RelayedStream } from './relayed-stream.ts';
import { openLocalStream } from './local-stream.ts';
import type { MuxStream } from '../../../proxy-core/src/tunnel/stream.ts';
import { SessionTunnelConnection, type TunnelAuthorization } from './session-tunnel.ts';
import { CloseCodes, type GatewayStreamMeta, type RelayCluster, type RelayDeps, type RelayOptions, type SessionEndReason } from './types.ts';
import { timerDelay, withTimeout } from '../../../proxy-core/src/timers.ts';

export type { RelayCluster, RelayDeps, RelayOptions, SessionEndReason } from './types.ts';
export type { RelayStats } from './counters.ts';

const log = createLogger('relay');

const CLOSE_TIMEOUT_MS = 2000;

/**
 * Relays tunnel streams between clients and gateways. Frames are forwarded as they are
 * (only the stream id is rewritten), so end-to-end flow control holds and the relay never
 * sees anything but the TLS ciphertext running inside each stream.
 */
export class Relay {
  private readonly gatewayServer: WebSocketServer;
  private readonly tunnelServer: WebSocketServer;
  private readonly links = new Map<string, GatewayLinkConnection>();
  private readonly tunnels = new Map<string, Set<SessionTunnelConnection>>();
  private readonly expiryTimers = new Map<SessionTunnelConnection, NodeJS.Timeout>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly heartbeat: Heartbeat;
  private readonly endGraceMs: number;
  private readonly counters: RelayStats = emptyStats();
  private readonly cluster: RelayCluster | undefined;
  private readonly direct: DirectStreams;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: RelayDeps,
    options: RelayOptions = {},
  ) {
    const common = { noServer: true, perMessageDeflate: false, clientTracking: false } as const;
    this.gatewayServer = new WebSocketServer({ ...common, maxPayload: options.maxGatewayPayload ?? 32 * 1024 * 1024 });
    this.tunnelServer = new WebSocketServer({ ...common, maxPayload: options.maxTunnelPayload ?? MAX_FRAME_LENGTH });
    this.heartbeat = new Heartbeat(options.heartbeatMs ?? 20_000);
    this.endGraceMs = options.endGraceMs ?? 250;
    this.cluster = options.cluster;
    this.direct = new DirectStreams(this.counters, {
      endGraceMs: this.endGraceMs,
      ...(options.dialTimeoutMs !== undefined && { dialTimeoutMs: options.dialTimeoutMs }),
      // In a cluster the gateway dials back this replica's own URL, not the load balancer.
      dialBackUrl: () => this.cluster?.replicas().find((r) => r.id === this.cluster?.replicaId)?.url,
    });
  }

  /** Upgrade `GET /api/v1/gateways/link` once the gateway's signed headers check out. */
  handleGatewayLink(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (this.closing) return Promise.resolve(rejectUpgrade(socket, refusalFor(unavailable())));
    return this.track(
      this.deps.authenticateGateway(req.headers).then(
        ({ gatewayId }) => {
          if (this.closing || socket.destroyed) {
            socket.destroy();
            return;
          }
          const features = String(req.headers[GATEWAY_FEATURES_HEADER] ?? '').split(/[\s,]+/);
          this.gatewayServer.handleUpgrade(req, socket, head, (ws) =>
            this.attachGateway(gatewayId, ws, req.socket.remoteAddress, features.includes(DIRECT_STREAMS_FEATURE)),
          );
        },
        (err: unknown) => {
          log.info({ code: refusalFor(err).code }, 'gateway link refused');
          rejectUpgrade(socket, refusalFor(err));
        },
      ),
    );
  }

  /** Upgrade `GET /api/v1/sessions/:id/tunnel` once the bearer token may use the session. */
  handleSessionTunnel(req: IncomingMessage, socket: Duplex, head: Buffer, sessionId: string): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (this.closing) return Promise.resolve(rejectUpgrade(socket, refusalFor(unavailable())));
    return this.track(
      this.deps.authorizeTunnel(sessionId, req.headers.authorization).then(
        (auth) => {
          if (this.closing || socket.destroyed) {
            socket.destroy();
            return;
          }
          if (!(Date.parse(auth.expiresAt) > Date.now())) {
            return rejectUpgrade(socket, refusalFor(new GatehouseError(ErrorCodes.SESSION_EXPIRED, 'the session has expired')));
          }
          this.tunnelServer.handleUpgrade(req, socket, head, (ws) => this.attachTunnel(sessionId, auth, ws));
        },
        (err: unknown) => {
          log.info({ sessionId, code: refusalFor(err).code }, 'session tunnel refused');
          rejectUpgrade(socket, refusalFor(err));
        },
      ),
    );
  }

  /**
   * Upgrade `GET /api/v1/sessions/:id/stream` (a direct stream, direct-stream.ts): the stream key
   * must be that of one of the session's tunnels on THIS replica; the socket then waits for the
   * gateway's dial-back. DIRECT_STREAM_UNAVAILABLE tells the client to use its tunnel instead.
   */
  handleSessionStream(req: IncomingMessage, socket: Duplex, head: Buffer, sessionId: string): void {
    socket.on('error', () => socket.destroy());
    if (this.closing) return rejectUpgrade(socket, refusalFor(unavailable()));
    const refuse = (code: ErrorCode, message: string) => {
      this.counters.streamsRefused += 1;
      rejectUpgrade(socket, streamRefusal(code, message));
    };
    const key = req.headers[STREAM_KEY_HEADER];
    const tunnel = typeof key === 'string' ? this.tunnelWithKey(sessionId, key) : undefined;
    if (!tunnel) {
      return refuse(
        ErrorCodes.DIRECT_STREAM_UNAVAILABLE,
        'this server replica does not hold a tunnel of this session with that stream key; open the connection through the tunnel',
      );
    }
    const admitted = this.admitStream(tunnel, decodeStreamMeta(req.headers[STREAM_META_HEADER]) ?? Buffer.alloc(0));
    if (!admitted.ok) return refuse(admitted.code, admitted.message);
    if (!admitted.link.directStreams) {
      return refuse(ErrorCodes.DIRECT_STREAM_UNAVAILABLE, 'the gateway of this database does not dial back; open the connection through the tunnel');
    }
    noDelay(socket);
    this.direct.request(admitted.link, socket, head, { sessionId, expiresAt: tunnel.expiresAt, meta: admitted.meta });
  }

  /** Upgrade `GET /api/v1/gateways/streams/:token`: a gateway's dial-back for a direct stream. */
  handleGatewayStream(socket: Duplex, head: Buffer, token: string): void {
    socket.on('error', () => socket.destroy());
    if (this.closing) return rejectUpgrade(socket, refusalFor(unavailable()));
    noDelay(socket);
    this.direct.accept(token, socket, head);
  }

  /** Tell the gateway and the client tunnel(s) that a session is over; closes them. */
  endSession(sessionId: string, reason: SessionEndReason): void {
    const tunnels = [...(this.tunnels.get(sessionId) ?? [])];
    const gatewayIds = tunnels.length > 0 ? new Set(tunnels.map((t) => t.gatewayId)) : new Set(this.links.keys());
    for (const gatewayId of gatewayIds) this.links.get(gatewayId)?.sendControl({ type: 'session-ended', sessionId, reason });
    for (const tunnel of tunnels) this.endTunnel(tunnel, reason);
    this.direct.endSession(sessionId, SESSION_END[reason].code, SESSION_END[reason].refusal);
  }

  /**
   * Opens a stream from the control plane itself to a gateway linked to THIS replica (the
   * service-connection seam, server/control/service-connection). Throws GATEWAY_UNAVAILABLE
   * when this replica holds no open link of the gateway.
   */
  openServiceStream(gatewayId: string, meta: GatewayStreamMeta): MuxStream {
    const link = this.links.get(gatewayId);
    if (this.closing || !link?.open) throw new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, 'the gateway is not linked to this control plane replica');
    return openLocalStream(link, meta);
  }

  /** A session's later expiry: its tunnels' timers move and the gateways keep its connections open longer. */
  extendSession(sessionId: string, expiresAt: Date, certificatePem: string): void {
    const tunnels = [...(this.tunnels.get(sessionId) ?? [])];
    const gatewayIds = tunnels.length > 0 ? new Set(tunnels.map((t) => t.gatewayId)) : new Set(this.links.keys());
    for (const gatewayId of gatewayIds) this.links.get(gatewayId)?.sendControl({ type: 'session-extended', sessionId, expiresAt: expiresAt.toISOString() });
    this.direct.extendSession(sessionId, expiresAt);
    for (const tunnel of tunnels) {
      if (tunnel.endReason || !tunnel.extend(expiresAt)) continue;
      // the public certificate for new connections, to whichever client holds the local proxy
      tunnel.sendControl({ type: 'session-extended', expiresAt: expiresAt.toISOString(), certificatePem });
      clearTimeout(this.expiryTimers.get(tunnel));
      const timer = setTimeout(() => this.endTunnel(tunnel, 'expired'), timerDelay(expiresAt.getTime() - Date.now()));
      timer.unref();
      this.expiryTimers.set(tunnel, timer);
    }
  }

  isGatewayConnected(gatewayId: string): boolean {
    return this.links.get(gatewayId)?.open === true;
  }

  /** Tells every linked gateway the current set of replicas (it links to the new ones, drops the gone). */
  announceReplicas(): void {
    for (const link of this.links.values()) this.sendReplicas(link);
  }

  /** Sessions with a client tunnel on this replica (the cluster re-checks them after missed messages). */
  openSessionIds(): string[] {
    return [...this.tunnels.keys()];
  }

  /** A snapshot of the counters (for /metrics). */
  stats(): RelayStats {
    let tunnels = 0;
    for (const set of this.tunnels.values()) tunnels += set.size;
    return { ...this.counters, gatewayLinks: this.links.size, tunnels, directStreams: this.direct.size.open };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.heartbeat.stop();
    this.direct.close();
    const sockets: WebSocket[] = [];
    for (const set of this.tunnels.values()) for (const tunnel of set) sockets.push(tunnel.ws);
    for (const link of this.links.values()) sockets.push(link.ws);
    await Promise.all(sockets.map((ws) => closeSocket(ws, CloseCodes.SHUTDOWN, 'server shutting down')));
    // Waits at most CLOSE_TIMEOUT_MS for the pending work; what is still running is abandoned.
    await withTimeout(Promise.allSettled([...this.pending]), CLOSE_TIMEOUT_MS, "the relay's pending work").catch(() => undefined);
    this.gatewayServer.close();
    this.tunnelServer.close();
  }

  private attachGateway(gatewayId: string, ws: WebSocket, remoteAddress: string | undefined, directStreams: boolean): void {
    const link = new GatewayLinkConnection(gatewayId, ws, this.deps, this.counters, {
      directStreams,
      dialRefused: (token, code, message) => this.direct.refused(gatewayId, token, code, message),
    });
    const previous = this.links.get(gatewayId);
    this.links.set(gatewayId, link);
    if (previous) {
      log.info({ gatewayId }, 'gateway reconnected; replacing its previous link');
      this.dropLinkStreams(previous);
      void closeSocket(previous.ws, CloseCodes.GATEWAY_REPLACED, 'replaced by a newer link');
    }
    this.heartbeat.watch(ws);
    ws.on('error', (err) => log.warn({ gatewayId, err }, 'gateway link error'));
    ws.once('close', () => this.detachGateway(link));
    log.info({ gatewayId }, 'gateway connected');
    this.sendReplicas(link);
    void this.track(this.deps.setGatewayConnected(gatewayId, true).catch((err) => log.error({ gatewayId, err }, 'could not record gateway as connected')));
    const linked = this.deps.gatewayLinked?.(gatewayId, { replaced: previous !== undefined, remoteAddress });
    if (linked) void this.track(linked.catch((err) => log.error({ gatewayId, err }, 'could not audit the gateway link')));
    this.broadcastGatewayStatus(gatewayId, true);
  }

  private detachGateway(link: GatewayLinkConnection): void {
    this.dropLinkStreams(link);
    if (this.links.get(link.gatewayId) !== link) return;
    this.links.delete(link.gatewayId);
    // Open direct streams are sockets of their own and carry on; waiting ones cannot be served.
    this.direct.gatewayLost(link.gatewayId);
    log.info({ gatewayId: link.gatewayId }, 'gateway disconnected');
    void this.track(
      this.deps
        .setGatewayConnected(link.gatewayId, false)
        .catch((err) => log.error({ gatewayId: link.gatewayId, err }, 'could not record gateway as disconnected')),
    );
    this.broadcastGatewayStatus(link.gatewayId, false);
  }

  private dropLinkStreams(link: GatewayLinkConnection): void {
    for (const stream of [...link.streams.values()]) {
      stream.resetToward('client', ErrorCodes.TUNNEL_CLOSED, 'the gateway link was lost');
    }
  }

  private attachTunnel(sessionId: string, auth: TunnelAuthorization, ws: WebSocket): void {
    const tunnel = new SessionTunnelConnection(sessionId, auth, ws, (t, id, payload) => this.openStream(t, id, payload));
    let set = this.tunnels.get(sessionId);
    if (!set) this.tunnels.set(sessionId, (set = new Set()));
    set.add(tunnel);
    this.heartbeat.watch(ws);
    ws.on('error', (err) => log.warn({ sessionId, err }, 'tunnel error'));
    ws.once('close', () => this.detachTunnel(tunnel));
    const untilExpiry = tunnel.expiresAt.getTime() - Date.now();
    const timer = setTimeout(() => this.endTunnel(tunnel, 'expired'), timerDelay(untilExpiry));
    timer.unref();
    this.expiryTimers.set(tunnel, timer);
    tunnel.sendControl({ type: 'gateway-status', connected: this.isGatewayConnected(auth.gatewayId) });
    tunnel.sendControl({ type: 'direct-streams', key: tunnel.streamKey });
    log.info({ sessionId, gatewayId: auth.gatewayId }, 'session tunnel opened');
  }

  private detachTunnel(tunnel: SessionTunnelConnection): void {
    clearTimeout(this.expiryTimers.get(tunnel));
    this.expiryTimers.delete(tunnel);
    for (const stream of [...tunnel.streams.values()]) {
      stream.resetToward('gateway', ErrorCodes.TUNNEL_CLOSED, 'the client tunnel closed');
    }
    const set = this.tunnels.get(tunnel.sessionId);
    set?.delete(tunnel);
    if (set?.size === 0) this.tunnels.delete(tunnel.sessionId);
    log.info({ sessionId: tunnel.sessionId }, 'session tunnel closed');
  }

  private endTunnel(tunnel: SessionTunnelConnection, reason: SessionEndReason): void {
    if (tunnel.endReason) return;
    tunnel.endReason = reason;
    tunnel.sendControl({ type: 'session-ended', reason });
    // A short grace lets the gateway's own goodbye (a 57P01 ErrorResponse) reach the client.
    const timer = setTimeout(() => tunnel.close(CloseCodes.SESSION_ENDED, reason), this.endGraceMs);
    timer.unref();
    tunnel.ws.once('close', () => clearTimeout(timer));
  }

  private openStream(tunnel: SessionTunnelConnection, clientId: number, payload: Buffer): void {
    const refuse = (code: ErrorCode, message: string): void => {
      this.counters.streamsRefused += 1;
      tunnel.sendFrame(encodeFrame(FrameType.RST, clientId, Buffer.from(JSON.stringify({ code, message }))));
    };
    if (clientId % 2 === 0 || tunnel.streams.has(clientId)) {
      return refuse(ErrorCodes.PROTOCOL, 'clients open streams with new odd ids');
    }
    const admitted = this.admitStream(tunnel, payload);
    if (!admitted.ok) return refuse(admitted.code, admitted.message);
    const { link, meta } = admitted;
    const gatewayStreamId = link.openStream(meta);
    const stream = new RelayedStream(tunnel.sessionId, clientId, gatewayStreamId, tunnel, link, this.counters, () => {
      tunnel.streams.delete(clientId);
      link.streams.delete(gatewayStreamId);
    });
    tunnel.streams.set(clientId, stream);
    link.streams.set(gatewayStreamId, stream);
  }

  /** Whether a new stream of this tunnel may open (tunnel stream or direct), and the gateway's meta for it. */
  private admitStream(
    tunnel: SessionTunnelConnection,
    payload: Buffer,
  ): { ok: true; link: GatewayLinkConnection; meta: GatewayStreamMeta } | { ok: false; code: ErrorCode; message: string } {
    const refusal = (code: ErrorCode, message: string) => ({ ok: false as const, code, message });
    if (tunnel.endReason) return refusal(SESSION_END[tunnel.endReason].code, SESSION_END[tunnel.endReason].refusal);
    if (Date.now() >= tunnel.expiresAt.getTime()) return refusal(SESSION_END.expired.code, SESSION_END.expired.refusal);
    const clientMeta = parseClientOpenMeta(payload);
    if (!clientMeta) return refusal(ErrorCodes.PROTOCOL, 'invalid stream metadata');
    const link = this.links.get(tunnel.gatewayId);
    if (!link?.open) return refusal(ErrorCodes.GATEWAY_UNAVAILABLE, 'the gateway of this database is not connected');
    const meta: GatewayStreamMeta = {
      ...tunnel.authorization.meta,
      sessionId: tunnel.sessionId,
      kind: clientMeta.kind,
      connectionId: randomUUID(),
      ...(clientMeta.clientAddress !== undefined && { clientAddress: clientMeta.clientAddress }),
      ...(clientMeta.applicationName !== undefined && { applicationName: clientMeta.applicationName }),
      ...(clientMeta.clientUser !== undefined && { clientUser: clientMeta.clientUser }),
      ...(clientMeta.clientOsUser !== undefined && { clientOsUser: clientMeta.clientOsUser }),
      ...(clientMeta.clientPid !== undefined && { clientPid: clientMeta.clientPid }),
      ...(clientMeta.clientProcess !== undefined && { clientProcess: clientMeta.clientProcess }),
    };
    return { ok: true, link, meta };
  }

  private tunnelWithKey(sessionId: string, key: string): SessionTunnelConnection | undefined {
    const given = Buffer.from(key);
    for (const tunnel of this.tunnels.get(sessionId) ?? []) {
      const want = Buffer.from(tunnel.streamKey);
      if (given.length === want.length && timingSafeEqual(given, want)) return tunnel;
    }
    return undefined;
  }

  private sendReplicas(link: GatewayLinkConnection): void {
    const replicas = this.cluster?.replicas() ?? [];
    if (!this.cluster || replicas.length === 0) return;
    link.sendControl({ type: 'replicas', self: this.cluster.replicaId, replicas });
  }

  private broadcastGatewayStatus(gatewayId: string, connected: boolean): void {
    for (const set of this.tunnels.values()) {
      for (const tunnel of set) if (tunnel.gatewayId === gatewayId) tunnel.sendControl({ type: 'gateway-status', connected });
    }
  }

  /** Keeps `promise` until it settles (close() waits for it) and returns it; the caller handles a rejection. */
  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const settled = () => this.pending.delete(promise);
    promise.then(settled, settled);
    return promise;
  }
}

/** Upgraded sockets are net.Sockets (typed Duplex by node:http): frames go out as they are written. */
function noDelay(socket: Duplex): void {
  const s = socket as Duplex & { setNoDelay?: (on: boolean) => void };
  s.setNoDelay?.(true);
}

function unavailable(): GatehouseError {
  return new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, 'the server is shutting down');
}

function closeSocket(ws: WebSocket, code: number, reason: string): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(code, reason);
  });
}
