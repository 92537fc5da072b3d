/**
 * Control plane replicas announce themselves in the shared store: id, advertised URL (where
 * gateways reach this replica directly) and a heartbeat. A replica whose heartbeat is older
 * than the TTL is gone: every replica prunes it (and its gateway links) on its own beat, so a
 * SIGKILLed replica disappears within one TTL without anyone's help. Times are the
 * database's `now()`, so replica clocks do not matter.
 */
import { EventEmitter } from 'node:events';
import { sql, type Kysely } from 'kysely';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { Database } from '../store/schema.ts';
import type { GatewayPresence } from './gateway-presence.ts';

const log = createLogger('cluster.replicas');

export interface ReplicaInfo {
  id: string;
  url: string;
}

export interface ReplicaRegistryOptions {
  id: string;
  advertiseUrl: string;
  /** How often this replica beats (and looks at the others). */
  heartbeatMs: number;
  /** A replica silent for this long is pruned. Default 3 heartbeats. */
  ttlMs?: number;
}

export class ReplicaRegistry extends EventEmitter<{ changed: [ReplicaInfo[]] }> {
  private live: ReplicaInfo[] = [];
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly presence: GatewayPresence,
    private readonly opts: ReplicaRegistryOptions,
  ) {
    super();
  }

  get replicas(): ReplicaInfo[] {
    return this.live;
  }

  async start(): Promise<void> {
    await this.announce();
    await this.beat();
    this.timer = setInterval(() => void this.beatOnce(), this.opts.heartbeatMs);
    this.timer.unref();
    log.info(
      { replicaId: this.opts.id, advertiseUrl: this.opts.advertiseUrl, replicas: this.live.length },
      `replica ${this.opts.id} joined (${this.live.length} live)`,
    );
  }

  /** Re-reads the live set now (another replica said it changed). */
  refresh(): Promise<void> {
    return this.beatOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.beating;
    await this.db.deleteFrom('control_replicas').where('id', '=', this.opts.id).execute();
    await this.presence.forgetReplica(this.opts.id);
  }

  private beatOnce(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.beating ??= this.beat()
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'replica heartbeat failed'))
      .finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async announce(): Promise<void> {
    await this.db
      .insertInto('control_replicas')
      .values({ id: this.opts.id, advertise_url: this.opts.advertiseUrl })
      .onConflict((oc) => oc.column('id').doUpdateSet({ advertise_url: this.opts.advertiseUrl, heartbeat_at: sql`now()` }))
      .execute();
  }

  private async beat(): Promise<void> {
    const updated = await this.db
      .updateTable('control_replicas')
      .set({ heartbeat_at: sql`now()` })
      .where('id', '=', this.opts.id)
      .executeTakeFirst();
    // Pruned by the others after a long stall (GC pause, suspended VM): announce again.
    if (Number(updated.numUpdatedRows) === 0) await this.announce();
    const ttlSeconds = (this.opts.ttlMs ?? 3 * this.opts.heartbeatMs) / 1000;
    const gone = await this.db
      .deleteFrom('control_replicas')
      .where('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${ttlSeconds})`)
      .returning('id')
      .execute();
    for (const { id } of gone) log.warn({ replicaId: id }, `replica ${id} stopped beating; removed from the cluster`);
    await this.presence.pruneDeadReplicas();
    const rows = await this.db.selectFrom('control_replicas').select(['id', 'advertise_url']).orderBy('started_at').orderBy('id').execute();
    const next = rows.map((r) => ({ id: r.id, url: r.advertise_url }));
    const changed = next.length !== this.live.length || next.some((r, i) => r.id !== this.live[i]?.id || r.url !== this.live[i]?.url);
    this.live = next;
    if (changed) this.emit('changed', next);
  }
}
