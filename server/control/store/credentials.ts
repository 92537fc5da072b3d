/**
 * Credential rotation and health state (migration 0009): rotation accounts of resources, and
 * per account the rotation settings and status, the pending password, the scheduler's lease
 * and the last health check. Times that decide who works when (`next_*`, leases) use the
 * database's clock, so replicas with skewed clocks agree.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AccountCredentialsTable, HealthStatus, RotationResult } from './credentials-schema.ts';
import type { Database } from './schema.ts';

export type { HealthStatus, RotationResult };

/** The AAD that binds a resource's sealed rotation-account password to its row. */
export function rotationPasswordAad(resourceId: string): string {
  return `resource:${resourceId}:rotation-password`;
}

export interface RotationAccount {
  resourceId: string;
  username: string;
  passwordSealed: string;
  updatedAt: Date;
}

export interface AccountCredentials {
  accountId: string;
  rotationEnabled: boolean;
  intervalDays: number;
  pendingPasswordSealed: string | null;
  pendingSince: Date | null;
  lastRotatedAt: Date | null;
  nextRotationAt: Date | null;
  lastResult: RotationResult | null;
  lastAttemptAt: Date | null;
  lastErrorCode: string | null;
  lastError: string | null;
  failures: number;
  health: { status: HealthStatus; code: string | null; error: string | null; checkedAt: Date | null };
}

export type CredentialsRepo = ReturnType<typeof createCredentialsRepo>;

const msInterval = (ms: number) => sql<Date>`now() + make_interval(secs => ${ms / 1000})`;

/**
 * A lease is free when it ran out, or — with replicas (`clustered`) — when the replica that
 * holds it (the owner id's first part) is no longer registered: a crashed replica's work is
 * taken over once it is pruned (3 heartbeats), not only when its lease runs out.
 */
function leaseFree(clustered: boolean, prefix = '') {
  const owner = sql.raw(`${prefix}lease_owner`);
  const until = sql.raw(`${prefix}lease_until`);
  return clustered
    ? sql`(${until} is null or ${until} < now() or split_part(${owner}, ':', 1) not in (select id from control_replicas))`
    : sql`(${until} is null or ${until} < now())`;
}

/** `clustered`: replicas share this store and register in control_replicas (server/control/cluster). */
export function createCredentialsRepo(db: Kysely<Database>, options: { clustered?: boolean } = {}) {
  let clustered = options.clustered ?? false;
  const repo = {
    /** Replicas share the store (set once the cluster is known); a single node clears stale leases at start instead. */
    setClustered(value: boolean): void {
      clustered = value;
    },
    /** Single node at start: leases in the store can only be left over from before a crash. */
    async releaseAllLeases(): Promise<void> {
      await db.updateTable('account_credentials').set({ lease_owner: null, lease_until: null }).where('lease_owner', 'is not', null).execute();
    },
    // ---- rotation accounts ----
    async rotationAccount(resourceId: string): Promise<RotationAccount | undefined> {
      const row = await db.selectFrom('resource_rotation_accounts').selectAll().where('resource_id', '=', resourceId).executeTakeFirst();
      return row && { resourceId: row.resource_id, username: row.username, passwordSealed: row.password_sealed, updatedAt: row.updated_at };
    },
    async setRotationAccount(resourceId: string, username: string, passwordSealed: string): Promise<void> {
      await db
        .insertInto('resource_rotation_accounts')
        .values({ resource_id: resourceId, username, password_sealed: passwordSealed })
        .onConflict((oc) => oc.column('resource_id').doUpdateSet({ username, password_sealed: passwordSealed, updated_at: sql`now()` }))
        .execute();
    },
    async clearRotationAccount(resourceId: string): Promise<boolean> {
      const r = await db.deleteFrom('resource_rotation_accounts').where('resource_id', '=', resourceId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    // ---- per account ----
    /** Creates the rows of accounts that have none yet (accounts created since the last sweep). */
    async ensureRows(): Promise<void> {
      await sql`insert into account_credentials (account_id) select a.id from accounts a
        where not exists (select 1 from account_credentials c where c.account_id = a.id) on conflict do nothing`.execute(db);
    },
    async get(accountId: string): Promise<AccountCredentials> {
      await db
        .insertInto('account_credentials')
        .values({ account_id: accountId })
        .onConflict((oc) => oc.column('account_id').doNothing())
        .execute();
      const row = await db.selectFrom('account_credentials').selectAll().where('account_id', '=', accountId).executeTakeFirstOrThrow();
      return toCredentials(row);
    },
    /** Rotation on/off and interval; the next rotation is the last one (or now) plus the interval. */
    async setRotation(accountId: string, settings: { enabled: boolean; intervalDays: number }): Promise<AccountCredentials> {
      await repo.get(accountId);
      await db
        .updateTable('account_credentials')
        .set({
          rotation_enabled: settings.enabled,
          rotation_interval_days: settings.intervalDays,
          next_rotation_at: settings.enabled ? sql<Date>`coalesce(last_rotated_at, now()) + make_interval(days => ${settings.intervalDays})` : null,
          failures: 0,
        })
        .where('account_id', '=', accountId)
        .execute();
      return repo.get(accountId);
    },

    /**
     * Leases up to `limit` accounts whose rotation is due (or whose pending password awaits
     * reconciliation) for `owner`; `FOR UPDATE SKIP LOCKED` hands each to one replica.
     */
    async claimDueRotations(owner: string, leaseMs: number, limit: number): Promise<string[]> {
      const rows = await sql<{ account_id: string }>`
        update account_credentials set lease_owner = ${owner}, lease_until = ${msInterval(leaseMs)}
        where account_id in (
          select account_id from account_credentials
          where ${leaseFree(clustered)}
            and next_rotation_at <= now()
            and (rotation_enabled or pending_password_sealed is not null)
          order by next_rotation_at
          limit ${limit}
          for update skip locked)
        returning account_id`.execute(db);
      return rows.rows.map((r) => r.account_id);
    },
    /** Leases accounts (with a stored password) whose health check is due; the next one is set now. */
    async claimDueHealthChecks(owner: string, leaseMs: number, intervalMs: number, limit: number): Promise<string[]> {
      const rows = await sql<{ account_id: string }>`
        update account_credentials set lease_owner = ${owner}, lease_until = ${msInterval(leaseMs)}, health_next_at = ${msInterval(intervalMs)}
        where account_id in (
          select c.account_id from account_credentials c join accounts a on a.id = c.account_id
          where ${leaseFree(clustered, 'c.')}
            and (c.health_next_at is null or c.health_next_at <= now())
            and a.password_sealed is not null
          order by c.health_next_at nulls first
          limit ${limit}
          for update skip locked)
        returning account_id`.execute(db);
      return rows.rows.map((r) => r.account_id);
    },
    /** Leases one account now (Rotate now, Check connection); false when another job holds it. */
    async claim(accountId: string, owner: string, leaseMs: number): Promise<boolean> {
      await repo.get(accountId);
      const r = await db
        .updateTable('account_credentials')
        .set({ lease_owner: owner, lease_until: msInterval(leaseMs) })
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([sql<boolean>`${leaseFree(clustered)}`, eb('lease_owner', '=', owner)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async release(accountId: string, owner: string): Promise<void> {
      await db
        .updateTable('account_credentials')
        .set({ lease_owner: null, lease_until: null })
        .where('account_id', '=', accountId)
        .where('lease_owner', '=', owner)
        .execute();
    },

    /** Step 2: the new password, sealed, next to the current one. */
    async setPending(accountId: string, passwordSealed: string): Promise<void> {
      // Due at once: should this run die, the next sweep of any replica reconciles it.
      await db
        .updateTable('account_credentials')
        .set({ pending_password_sealed: passwordSealed, pending_since: sql<Date>`now()`, next_rotation_at: sql<Date>`now()` })
        .where('account_id', '=', accountId)
        .execute();
    },
    async clearPending(accountId: string): Promise<void> {
      await db.updateTable('account_credentials').set({ pending_password_sealed: null, pending_since: null }).where('account_id', '=', accountId).execute();
    },
    /** Step 5, in one transaction: the pending password becomes the account's password. */
    async makePendingCurrent(accountId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('account_credentials')
          .select(['pending_password_sealed', 'rotation_enabled', 'rotation_interval_days'])
          .where('account_id', '=', accountId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (row.pending_password_sealed === null) throw new Error('no pending password to make current');
        await trx
          .updateTable('accounts')
          .set({ password_sealed: row.pending_password_sealed, updated_at: sql<Date>`now()` })
          .where('id', '=', accountId)
          .execute();
        await trx
          .updateTable('account_credentials')
          .set({
            pending_password_sealed: null,
            pending_since: null,
            last_rotated_at: sql<Date>`now()`,
            last_attempt_at: sql<Date>`now()`,
            next_rotation_at: row.rotation_enabled ? sql<Date>`now() + make_interval(days => ${row.rotation_interval_days})` : null,
            last_result: 'ok',
            last_error_code: null,
            last_error: null,
            failures: 0,
            health_status: 'ok',
            health_code: null,
            health_error: null,
            health_checked_at: sql<Date>`now()`,
          })
          .where('account_id', '=', accountId)
          .execute();
      });
    },
    /** A failed attempt: status, and the next try after `retryInMs` (while rotation is on or a pending password waits). */
    async recordFailure(accountId: string, failure: { code: string; message: string }, retryInMs: number): Promise<AccountCredentials> {
      await db
        .updateTable('account_credentials')
        .set((eb) => ({
          last_result: 'failed',
          last_attempt_at: sql<Date>`now()`,
          last_error_code: failure.code,
          last_error: failure.message,
          failures: eb('failures', '+', 1),
          next_rotation_at: sql<Date>`case when rotation_enabled or pending_password_sealed is not null then ${msInterval(retryInMs)} else next_rotation_at end`,
        }))
        .where('account_id', '=', accountId)
        .execute();
      return repo.get(accountId);
    },
    /** The outcome of a login with the stored password; returns the status it replaces. */
    async recordHealth(accountId: string, status: HealthStatus, failure?: { code: string; message: string }): Promise<{ previous: HealthStatus }> {
      const before = await repo.get(accountId);
      await db
        .updateTable('account_credentials')
        .set({ health_status: status, health_code: failure?.code ?? null, health_error: failure?.message ?? null, health_checked_at: sql<Date>`now()` })
        .where('account_id', '=', accountId)
        .execute();
      return { previous: before.health.status };
    },
    /** Checks run again at once (tests, and after an admin re-enters a password). */
    async healthDueNow(accountId?: string): Promise<void> {
      let q = db.updateTable('account_credentials').set({ health_next_at: null });
      if (accountId !== undefined) q = q.where('account_id', '=', accountId);
      await q.execute();
    },
    /** A gateway linked again: its accounts whose rotation waits on GATEWAY_OFFLINE are due now. */
    async retryGatewayOffline(gatewayId: string): Promise<number> {
      const r = await sql`update account_credentials c set next_rotation_at = now()
        from accounts a join resources r on r.id = a.resource_id
        where a.id = c.account_id and r.gateway_id = ${gatewayId} and c.last_error_code = 'GATEWAY_OFFLINE'
          and (c.rotation_enabled or c.pending_password_sealed is not null)`.execute(db);
      return Number(r.numAffectedRows ?? 0);
    },
    async countBroken(): Promise<number> {
      const row = await db
        .selectFrom('account_credentials')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('health_status', '=', 'broken')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
  return repo;
}

function toCredentials(row: Selectable<AccountCredentialsTable>): AccountCredentials {
  return {
    accountId: row.account_id,
    rotationEnabled: row.rotation_enabled,
    intervalDays: row.rotation_interval_days,
    pendingPasswordSealed: row.pending_password_sealed,
    pendingSince: row.pending_since,
    lastRotatedAt: row.last_rotated_at,
    nextRotationAt: row.next_rotation_at,
    lastResult: row.last_result,
    lastAttemptAt: row.last_attempt_at,
    lastErrorCode: row.last_error_code,
    lastError: row.last_error,
    failures: row.failures,
    health: { status: row.health_status, code: row.health_code, error: row.health_error, checkedAt: row.health_checked_at },
  };
}
