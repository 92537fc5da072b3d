/**
 * Control plane replicas as one service (docs/architecture.md, "Running several replicas").
 * On PostgreSQL (`DATABASE_URL`) every replica registers itself with its advertised URL,
 * tells its gateways about every live replica (they link to each one directly, so any replica
 * can reach any gateway without an extra hop), records gateway links per replica, and fans
 * out session endings over LISTEN/NOTIFY. On PGlite there is one node and the same calls stay
 * in process.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { SessionEndReason } from '../relay/types.ts';
import type { Store } from '../store/store.ts';
import { LocalBus, PostgresBus, type ClusterBus, type ClusterMessage } from './cluster-bus.ts';
import { GatewayPresence } from './gateway-presence.ts';
import { ReplicaRegistry, type ReplicaInfo } from './replica-registry.ts';

const log = createLogger('cluster');

export type { ReplicaInfo };

/** What the cluster needs of this replica's relay. */
export interface ClusterRelay {
  endSession(sessionId: string, reason: SessionEndReason): void;
  extendSession(sessionId: string, expiresAt: Date, certificatePem: string): void;
  announceReplicas(): void;
  openSessionIds(): string[];
}

export interface ClusterOptions {
  store: Store;
  /** Set: replicas on this PostgreSQL. Unset: one node on PGlite. */
  databaseUrl?: string;
  heartbeatMs: number;
}

export class Cluster {
  readonly replicaId = randomUUID();
  readonly presence: GatewayPresence;
  private registry: ReplicaRegistry | undefined;
  private self: ReplicaInfo | undefined;
  private relay: ClusterRelay | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly opts: ClusterOptions,
    private readonly bus: ClusterBus,
  ) {
    this.presence = new GatewayPresence(opts.store.db, this.replicaId, opts.databaseUrl !== undefined);
  }

  /** Opens the bus (LISTEN on PostgreSQL). The replica joins in `join()`, once it listens. */
  static async open(opts: ClusterOptions): Promise<Cluster> {
    const bus = opts.databaseUrl !== undefined ? await PostgresBus.start(opts.databaseUrl, opts.store.db) : new LocalBus();
    const cluster = new Cluster(opts, bus);
    // One node: every stored gateway link is from an earlier run (before any gateway can dial).
    if (!cluster.replicated) await cluster.presence.resetSingleNode();
    return cluster;
  }

  get replicated(): boolean {
    return this.opts.databaseUrl !== undefined;
  }

  /** Live replicas, this one included (one entry on PGlite). */
  replicas(): ReplicaInfo[] {
    if (this.registry) return this.registry.replicas;
    return this.self ? [this.self] : [];
  }

  /** Announces this replica at `advertiseUrl` and starts acting on the others' messages. */
  async join(relay: ClusterRelay, advertiseUrl: string): Promise<void> {
    this.relay = relay;
    this.self = { id: this.replicaId, url: advertiseUrl };
    this.bus.on('message', (message) => this.onMessage(message));
    this.bus.on('resync', () => void this.resync());
    if (!this.replicated) {
      relay.announceReplicas();
      return;
    }
    const registry = new ReplicaRegistry(this.opts.store.db, this.presence, { id: this.replicaId, advertiseUrl, heartbeatMs: this.opts.heartbeatMs });
    registry.on('changed', (list) => {
      log.info({ replicas: list.map((r) => r.id) }, `${list.length} control plane replica(s) live`);
      relay.announceReplicas();
    });
    this.registry = registry;
    await registry.start();
    await this.bus.publish({ type: 'replicas-changed', from: this.replicaId });
  }

  /** Ends a session here now and on every other replica (their tunnels and gateway links). */
  endSession(sessionId: string, reason: SessionEndReason): void {
    this.relay?.endSession(sessionId, reason);
    this.bus.publish({ type: 'session-ended', sessionId, reason, from: this.replicaId }).catch((err: unknown) => {
      log.error({ sessionId, err: (err as Error).message }, 'could not tell the other replicas that a session ended; they find out at their next resync');
    });
  }

  /** Moves a session's expiry here now and on every other replica. */
  extendSession(sessionId: string, expiresAt: Date, certificatePem: string): void {
    this.relay?.extendSession(sessionId, expiresAt, certificatePem);
    this.bus
      .publish({ type: 'session-extended', sessionId, expiresAt: expiresAt.toISOString(), certificatePem, from: this.replicaId })
      .catch((err: unknown) => {
        log.error({ sessionId, err: (err as Error).message }, 'could not tell the other replicas that a session was extended');
      });
  }

  /** Leaves the cluster first (the others and the gateways stop counting on us), then the bus. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.registry) {
        await this.registry
          .stop()
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not leave the cluster cleanly; the others prune us after the TTL'));
        await this.bus.publish({ type: 'replicas-changed', from: this.replicaId }).catch(() => undefined);
      }
      await this.bus.close();
    })();
    return this.closing;
  }

  private onMessage(message: ClusterMessage): void {
    if (message.from === this.replicaId) return;
    if (message.type === 'session-ended') this.relay?.endSession(message.sessionId, message.reason);
    else if (message.type === 'session-extended') this.relay?.extendSession(message.sessionId, new Date(message.expiresAt), message.certificatePem);
    else if (message.type === 'replicas-changed') void this.registry?.refresh();
  }

  /** After missed notifications: end the tunnels of sessions that are over by now. */
  private async resync(): Promise<void> {
    const relay = this.relay;
    if (!relay) return;
    await this.registry?.refresh();
    for (const sessionId of relay.openSessionIds()) {
      const session = await this.opts.store.sessions.findById(sessionId).catch(() => undefined);
      if (!session) continue;
      if (session.status !== 'active') relay.endSession(sessionId, session.status);
      else if (session.expiresAt.getTime() <= Date.now()) relay.endSession(sessionId, 'expired');
    }
  }
}
