/**
 * Which replica holds a live link of which gateway (`gateway_links`), and the cluster-wide
 * `gateways.connected` derived from it: true while any live replica holds a link. Writes of
 * one gateway are serialized on this replica, so a quick drop-and-relink cannot land in the
 * wrong order.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

export class GatewayPresence {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly replicaId: string,
    /** With a replica registry, links count only while their replica is registered. */
    private readonly registered: boolean,
  ) {}

  /** Record that this replica holds (or lost) a link of the gateway; recompute its status. */
  setLinked(gatewayId: string, linked: boolean): Promise<void> {
    const previous = this.chains.get(gatewayId) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        if (linked) {
          await this.db
            .insertInto('gateway_links')
            .values({ gateway_id: gatewayId, replica_id: this.replicaId })
            .onConflict((oc) => oc.columns(['gateway_id', 'replica_id']).doUpdateSet({ connected_at: sql`now()` }))
            .execute();
        } else {
          await this.db.deleteFrom('gateway_links').where('gateway_id', '=', gatewayId).where('replica_id', '=', this.replicaId).execute();
        }
        await this.recompute(gatewayId, true);
      });
    this.chains.set(gatewayId, next);
    void next.finally(() => {
      if (this.chains.get(gatewayId) === next) this.chains.delete(gatewayId);
    });
    return next;
  }

  /** True while any (live) replica holds a link of the gateway. */
  async isLinkedAnywhere(gatewayId: string): Promise<boolean> {
    const row = await this.liveLinks().where('gl.gateway_id', '=', gatewayId).select('gl.replica_id').executeTakeFirst();
    return row !== undefined;
  }

  /** Drops links of replicas that are no longer registered; recomputes what changed. */
  async pruneDeadReplicas(): Promise<void> {
    if (!this.registered) return;
    const dropped = await this.db
      .deleteFrom('gateway_links')
      .where('replica_id', 'not in', this.db.selectFrom('control_replicas').select('id'))
      .returning('gateway_id')
      .execute();
    await this.recomputeStale();
    for (const gatewayId of new Set(dropped.map((r) => r.gateway_id))) await this.recompute(gatewayId, false);
  }

  /** This replica is going away (or is a fresh single node): forget its links. */
  async forgetReplica(replicaId = this.replicaId): Promise<void> {
    const dropped = await this.db.deleteFrom('gateway_links').where('replica_id', '=', replicaId).returning('gateway_id').execute();
    for (const gatewayId of new Set(dropped.map((r) => r.gateway_id))) await this.recompute(gatewayId, false);
  }

  /** One node: every stored link is from an earlier run of this node. */
  async resetSingleNode(): Promise<void> {
    await this.db.deleteFrom('gateway_links').execute();
    await this.db.updateTable('gateways').set({ connected: false }).where('connected', '=', true).execute();
  }

  private liveLinks() {
    const base = this.db.selectFrom('gateway_links as gl');
    return this.registered ? base.innerJoin('control_replicas as r', 'r.id', 'gl.replica_id') : base;
  }

  private async recompute(gatewayId: string, touchLastSeen: boolean): Promise<void> {
    const linked = await this.isLinkedAnywhere(gatewayId);
    await this.db
      .updateTable('gateways')
      .set({ connected: linked, ...(touchLastSeen && { last_seen_at: new Date() }) })
      .where('id', '=', gatewayId)
      .execute();
  }

  /** Gateways whose stored status disagrees with the links (a replica died between writes). */
  private async recomputeStale(): Promise<void> {
    await sql`
      update gateways set connected = false
      where connected and not exists (
        select 1 from gateway_links gl join control_replicas r on r.id = gl.replica_id where gl.gateway_id = gateways.id
      )`.execute(this.db);
  }
}
