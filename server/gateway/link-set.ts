import { EventEmitter } from 'node:events';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { GatewayStreamMeta } from '../../proxy-core/src/tunnel/meta.ts';
import type { ControlMessage } from '../../proxy-core/src/tunnel/mux.ts';
import { parseControlMessage, type ReplicaInfo } from '../../proxy-core/src/tunnel/control-messages.ts';
import type { MuxStream } from '../../proxy-core/src/tunnel/stream.ts';
import { gatewayStreamPath } from '../../proxy-core/src/tunnel/direct-stream.ts';
import type { GatewayIdentity } from './identity.ts';
import type { DialRequest } from './streams.ts';
import { GatewayLink, type GatewayLinkOptions, type LinkState } from './link.ts';

const log = createLogger('gateway.links');

/** WebSocket close code the relay uses when a newer link of the same gateway replaced this one. */
const REPLACED = 4001;

export type { ReplicaInfo };

export interface LinkSetOptions extends Pick<GatewayLinkOptions, 'heartbeatMs' | 'maxBackoffMs' | 'baseBackoffMs'> {
  domain: string;
  identity: GatewayIdentity;
}

export interface LinkSnapshot {
  url: string;
  role: 'seed' | 'direct';
  replicaId?: string;
  state: LinkState;
  counters: GatewayLink['counters'];
}

export interface LinkSetEvents {
  /** A link is up and chosen to carry session events (first link, or a switch after a loss). */
  connected: [];
  /** No link is up. */
  disconnected: [];
  stream: [MuxStream, GatewayStreamMeta];
  /** The relay at the other end of a link asks for a direct stream (streams.ts serves it). */
  dial: [DialRequest];
  control: [ControlMessage];
}

/**
 * Every link of one gateway: the seed link to the domain (through the load balancer) and a
 * direct link to each other live control plane replica, so that whichever replica a client's
 * tunnel lands on can open streams to this gateway without another hop.
 *
 * - The seed dials the domain and learns from the replica it reached (`replicas` message) its
 *   id and the list of live replicas; the set dials each other replica at its advertised URL.
 * - A direct link whose replica left the list is closed; a replica that joins is dialed.
 * - The seed only redials while no direct link is up (a replica that died takes its seed link
 *   with it; the others keep serving). When every link is down it dials the domain again.
 * - Two links to one replica replace each other there (close code 4001): the set keeps one.
 * Session events go over one link at a time (the primary); when it drops, the next link up
 * becomes primary and every unacknowledged event is sent again (stored by seq, idempotent).
 */
export class LinkSet extends EventEmitter<LinkSetEvents> {
  private readonly seed: GatewayLink;
  private readonly direct = new Map<string, GatewayLink>();
  private replicas: ReplicaInfo[] = [];
  private primary: GatewayLink | undefined;
  private closed = false;

  constructor(private readonly opts: LinkSetOptions) {
    super();
    this.seed = this.wire(new GatewayLink(this.linkOptions(opts.domain)), 'seed');
  }

  get connected(): boolean {
    return this.primary?.connected === true;
  }

  /** The state of the seed, or of the primary link when there is one (health, tests). */
  get state(): LinkState {
    return this.primary?.state ?? this.seed.state;
  }

  start(): void {
    this.seed.start();
  }

  /** Sends on the primary link; false when no link is up (the caller keeps it for later). */
  sendControl(message: ControlMessage): boolean {
    return this.primary?.sendControl(message) ?? false;
  }

  snapshot(): LinkSnapshot[] {
    const all: Array<[GatewayLink, 'seed' | 'direct']> = [[this.seed, 'seed'], ...[...this.direct.values()].map((l): [GatewayLink, 'direct'] => [l, 'direct'])];
    return all.map(([link, role]) => ({
      url: link.target,
      role,
      ...(link.replicaId !== undefined && { replicaId: link.replicaId }),
      state: link.state,
      counters: { ...link.counters },
    }));
  }

  knownReplicas(): ReplicaInfo[] {
    return [...this.replicas];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.seed.close(), ...[...this.direct.values()].map((l) => l.close())]);
    this.direct.clear();
    this.choosePrimary();
  }

  private linkOptions(domain: string): GatewayLinkOptions {
    const { identity, heartbeatMs, maxBackoffMs, baseBackoffMs } = this.opts;
    return { domain, identity, heartbeatMs, maxBackoffMs, baseBackoffMs };
  }

  private wire(link: GatewayLink, role: 'seed' | 'direct'): GatewayLink {
    link.on('stream', (stream, meta) => this.emit('stream', stream, meta));
    link.on('control', (message) => {
      if (message.type === 'replicas') this.onReplicas(link, role, message);
      else if (message.type === 'dial') this.onDial(link, message);
      else this.emit('control', message);
    });
    link.on('connected', () => {
      if (role === 'direct' && !this.seed.connected) this.seed.park();
      this.choosePrimary();
    });
    link.on('disconnected', ({ code }) => this.onDisconnected(link, role, code));
    return link;
  }

  private onReplicas(link: GatewayLink, role: 'seed' | 'direct', raw: ControlMessage): void {
    // `{ type: 'replicas', self, replicas }`: which replica this link reached, and every live one.
    const parsed = parseControlMessage(raw);
    if (!parsed.ok || parsed.message.type !== 'replicas') {
      log.warn({ url: link.target }, 'malformed replicas message ignored');
      return;
    }
    const { self, replicas } = parsed.message;
    link.replicaId = self;
    this.replicas = replicas;
    if (role === 'seed') {
      const twin = this.direct.get(self);
      if (twin) this.drop(self, twin, 'the seed link reached the same replica');
    } else {
      // A replica restarted at the same advertised URL comes back with a new id: keep the link.
      const key = [...this.direct].find(([, l]) => l === link)?.[0];
      if (key !== undefined && key !== self) {
        this.direct.delete(key);
        const twin = this.direct.get(self);
        if (twin || (this.seed.connected && this.seed.replicaId === self)) {
          log.info({ replicaId: self, url: link.target }, `closing a second link to replica ${self}`);
          void link.close();
        } else {
          this.direct.set(self, link);
        }
      }
    }
    this.reconcile();
  }

  /**
   * Dials back the replica that asked: at the URL it names when that is a live replica's
   * advertised URL (the seed link may have come through a load balancer), else the link's own.
   */
  private onDial(link: GatewayLink, raw: ControlMessage): void {
    const parsed = parseControlMessage(raw);
    if (!parsed.ok || parsed.message.type !== 'dial') {
      log.warn({ url: link.target, error: parsed.ok ? undefined : parsed.error }, 'malformed dial request ignored');
      return;
    }
    const { token, url, meta } = parsed.message;
    const base = url !== undefined && this.replicas.some((r) => r.url === url) ? url : link.target;
    this.emit('dial', {
      url: new URL(gatewayStreamPath(token), base).toString(),
      meta,
      refuse: (code, message) => void link.sendControl({ type: 'dial-refused', token, code, message }),
    });
  }

  /** Dial every live replica not yet linked; close direct links to replicas that left. */
  private reconcile(): void {
    if (this.closed) return;
    const live = new Set(this.replicas.map((r) => r.id));
    for (const [id, link] of this.direct) if (!live.has(id)) this.drop(id, link, 'the replica left the cluster');
    // With no link up the seed alone looks for the cluster (a second dial to the same replica
    // would only replace it there); the list it brings back is fresh.
    if (!this.links().some((l) => l.connected)) return;
    const seedReplica = this.seed.connected ? this.seed.replicaId : undefined;
    for (const replica of this.replicas) {
      if (replica.id === seedReplica || this.direct.has(replica.id)) continue;
      log.info({ replicaId: replica.id, url: replica.url }, `linking to control plane replica ${replica.id} at ${replica.url}`);
      const link = this.wire(new GatewayLink(this.linkOptions(replica.url)), 'direct');
      this.direct.set(replica.id, link);
      link.start();
    }
  }

  private onDisconnected(link: GatewayLink, role: 'seed' | 'direct', code: number): void {
    if (this.closed) return;
    const othersUp = this.links().some((l) => l !== link && l.connected);
    if (role === 'seed' && othersUp) {
      // Its replica died or another link of ours replaced it there: the direct links serve.
      this.seed.park();
    } else if (role === 'direct' && code === REPLACED) {
      // Replaced by our own other link to the same replica (the seed landed there): keep that one.
      const replicaOf = [...this.direct].find(([, l]) => l === link)?.[0];
      const twin = this.links().find((l) => l !== link && l.connected && l.replicaId === replicaOf);
      if (replicaOf !== undefined && twin) this.drop(replicaOf, link, 'another link of ours reached the same replica');
    }
    this.choosePrimary();
    this.reconcile();
    if (!this.links().some((l) => l.connected) && this.seed.state.state === 'idle') this.seed.start();
  }

  private drop(replicaId: string, link: GatewayLink, why: string): void {
    if (this.direct.get(replicaId) === link) this.direct.delete(replicaId);
    log.info({ replicaId, url: link.target }, `closing the link to replica ${replicaId}: ${why}`);
    void link.close();
  }

  private links(): GatewayLink[] {
    return [this.seed, ...this.direct.values()];
  }

  private choosePrimary(): void {
    if (this.primary?.connected && !this.closed) return;
    const next = this.closed ? undefined : this.links().find((l) => l.connected);
    const had = this.primary !== undefined;
    this.primary = next;
    if (next) this.emit('connected');
    else if (had) this.emit('disconnected');
  }
}
