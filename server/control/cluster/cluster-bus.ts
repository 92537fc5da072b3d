/**
 * Messages between control plane replicas: PostgreSQL LISTEN/NOTIFY on the shared store, or
 * an in-process emitter on PGlite (one node). A replica publishes what every replica must act
 * on at once: a session that ended (its tunnels and the gateway's connections must close on
 * every replica within a second) and a change in the set of live replicas.
 */
import { EventEmitter } from 'node:events';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { SESSION_END_REASONS } from '../../../proxy-core/src/tunnel/session-end.ts';
import type { Database } from '../store/schema.ts';

const log = createLogger('cluster.bus');

export const CLUSTER_CHANNEL = 'gatehouse_cluster';

const clusterMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session-ended'), sessionId: z.string().min(1).max(128), reason: z.enum(SESSION_END_REASONS), from: z.string().max(128) }),
  z.object({
    type: z.literal('session-extended'),
    sessionId: z.string().min(1).max(128),
    expiresAt: z.iso.datetime(),
    certificatePem: z.string().min(1).max(8000),
    from: z.string().max(128),
  }),
  z.object({ type: z.literal('replicas-changed'), from: z.string().max(128) }),
]);
export type ClusterMessage = z.infer<typeof clusterMessage>;

export interface ClusterBusEvents {
  message: [ClusterMessage];
  /** The listener was down for a while and is back: notifications may have been missed. */
  resync: [];
}

export interface ClusterBus extends EventEmitter<ClusterBusEvents> {
  publish(message: ClusterMessage): Promise<void>;
  close(): Promise<void>;
}

/** One node (PGlite): messages go straight to this process's listeners. */
export class LocalBus extends EventEmitter<ClusterBusEvents> implements ClusterBus {
  publish(message: ClusterMessage): Promise<void> {
    setImmediate(() => this.emit('message', message));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.removeAllListeners();
    return Promise.resolve();
  }
}

/**
 * LISTEN on a dedicated connection (a pooled one would drop the subscription), NOTIFY through
 * the store's pool. The listening connection is redialed with backoff when it drops, and a
 * `resync` is emitted so the relay can re-check the sessions it serves.
 */
export class PostgresBus extends EventEmitter<ClusterBusEvents> implements ClusterBus {
  private client: pg.Client | undefined;
  private closed = false;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;

  private constructor(
    private readonly connectionString: string,
    private readonly db: Kysely<Database>,
  ) {
    super();
  }

  static async start(connectionString: string, db: Kysely<Database>): Promise<PostgresBus> {
    const bus = new PostgresBus(connectionString, db);
    await bus.listen();
    return bus;
  }

  async publish(message: ClusterMessage): Promise<void> {
    await sql`select pg_notify(${CLUSTER_CHANNEL}, ${JSON.stringify(message)})`.execute(this.db);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (n) => this.onNotification(n.payload));
    client.on('error', (err) => log.warn({ err: err.message }, 'cluster listener connection error'));
    client.on('end', () => {
      if (this.client !== client || this.closed) return;
      this.client = undefined;
      log.warn('cluster listener connection lost; reconnecting');
      this.scheduleRetry();
    });
    await client.connect();
    await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
    this.client = client;
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    const delay = Math.min(5_000, 100 * 2 ** this.attempt);
    this.attempt += 1;
    this.retry = setTimeout(() => {
      this.listen().then(
        () => {
          this.attempt = 0;
          log.info('cluster listener reconnected');
          this.emit('resync');
        },
        (err: unknown) => {
          log.warn({ err: (err as Error).message, attempt: this.attempt }, 'cluster listener reconnect failed');
          this.scheduleRetry();
        },
      );
    }, delay);
    this.retry.unref();
  }

  private onNotification(payload: string | undefined): void {
    let parsed;
    try {
      parsed = clusterMessage.safeParse(JSON.parse(payload ?? ''));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      log.warn('malformed cluster notification ignored');
      return;
    }
    this.emit('message', parsed.data);
  }
}
