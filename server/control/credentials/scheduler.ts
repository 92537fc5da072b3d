/**
 * Runs due rotations and credential health checks on every replica. Each sweep leases the
 * due accounts in the store (`FOR UPDATE SKIP LOCKED`, store/credentials.ts), so exactly one
 * replica works on an account; a lease outlives a crash by `leaseMs` at most, and the due time
 * stays in the store, so missed rotations run at the next start. An account whose gateway is
 * linked to another replica but not to this one is released untouched for that replica.
 */
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { Store } from '../store/store.ts';
import { SCHEDULER } from './alerts.ts';
import { NotLinkedHere, type CredentialService } from './credential-service.ts';

const log = createLogger('credentials.scheduler');

const BATCH = 8;
const CONCURRENCY = 4;

export interface CredentialSchedulerOptions {
  store: Store;
  service: CredentialService;
  /** This replica's id: the lease owner. */
  owner: string;
  /** Replicas share the store; otherwise leases left by a crash are cleared at start. */
  clustered: boolean;
  sweepMs: number;
  healthCheckIntervalMs: number;
  leaseMs: number;
}

export class CredentialScheduler {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly o: CredentialSchedulerOptions) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.o.sweepMs);
    this.#timer.unref();
    // Missed rotations (and ones a crash left pending) run at start.
    const stale = this.o.clustered ? Promise.resolve() : this.o.store.credentials.releaseAllLeases();
    void stale.then(
      () => this.runOnce(),
      (err: unknown) => log.error({ err }, 'could not clear stale leases'),
    );
  }

  /** One sweep; overlapping calls share the sweep in progress. */
  runOnce(): Promise<void> {
    this.#running ??= this.sweep()
      .catch((err: unknown) => log.error({ err }, 'credential sweep failed'))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** A gateway linked again: rotations that waited on it run at the next sweep. */
  async gatewayReturned(gatewayId: string): Promise<void> {
    const n = await this.o.store.credentials.retryGatewayOffline(gatewayId);
    if (n > 0) {
      log.info({ gatewayId, accounts: n }, 'gateway is back: its waiting rotations are due now');
      void this.runOnce();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  private async sweep(): Promise<void> {
    const { store, owner, leaseMs } = this.o;
    await store.credentials.ensureRows();
    const rotations = await store.credentials.claimDueRotations(owner, leaseMs, BATCH);
    await this.each(rotations, async (accountId) => {
      const creds = await store.credentials.get(accountId);
      await this.o.service.rotate(accountId, creds.rotationEnabled ? 'schedule' : 'reconcile', SCHEDULER, { reconcileOnly: !creds.rotationEnabled });
    });
    const checks = await store.credentials.claimDueHealthChecks(owner, leaseMs, this.o.healthCheckIntervalMs, BATCH);
    await this.each(checks, async (accountId) => {
      try {
        await this.o.service.checkHealth(accountId);
      } catch (err) {
        // Not ours to check: due again at once for the replica holding the link.
        if (err instanceof NotLinkedHere) await store.credentials.healthDueNow(accountId);
        throw err;
      }
    });
  }

  /** Runs `job` for each leased account, a few at a time, releasing each lease after. */
  private async each(accountIds: string[], job: (accountId: string) => Promise<unknown>): Promise<void> {
    const queue = [...accountIds];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          if (!this.#stopped) await job(id);
        } catch (err) {
          if (err instanceof NotLinkedHere) log.debug({ accountId: id }, 'gateway linked to another replica; left to it');
          else log.error({ err, accountId: id }, 'credential job failed');
        } finally {
          await this.o.store.credentials.release(id, this.o.owner).catch((err: unknown) => log.warn({ err, accountId: id }, 'could not release a lease'));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }
}
