/** Table types of migration 0007 (migrations/0007-control-replicas.ts). */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | undefined, Date>;

export interface ControlReplicasTable {
  id: string;
  advertise_url: string;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
}

export interface GatewayLinksTable {
  gateway_id: string;
  replica_id: string;
  connected_at: Timestamp;
}

export interface ClusterTables {
  control_replicas: ControlReplicasTable;
  gateway_links: GatewayLinksTable;
}
