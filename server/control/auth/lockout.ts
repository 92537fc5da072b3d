/**
 * Failure counting and lockouts for sign-in and MFA, kept in the store (`auth_throttle`) so
 * every replica sees the same counters. A key counts failures within a window; reaching the
 * limit locks the key for the lockout period. Success resets the key.
 *
 * Sign-in reserves its attempt before the password is checked (`reserve`, one atomic upsert):
 * however many requests race, at most `max` passwords are checked per key and window.
 */
import { sql, type Kysely } from 'kysely';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { Database } from '../store/schema.ts';
import { toNumber } from '../store/errors.ts';

export interface LockoutPolicy {
  windowMs: number;
  lockMs: number;
}

export class Lockout {
  readonly #db: Kysely<Database>;
  readonly #policy: LockoutPolicy;

  constructor(db: Kysely<Database>, policy: LockoutPolicy) {
    this.#db = db;
    this.#policy = policy;
  }

  /** The latest `locked_until` still in the future among the keys, if any. */
  async lockedUntil(keys: string[], now = new Date()): Promise<Date | undefined> {
    const rows = await this.#db.selectFrom('auth_throttle').select('locked_until').where('key', 'in', keys).where('locked_until', '>', now).execute();
    const times = rows.map((r) => r.locked_until?.getTime() ?? 0);
    return times.length === 0 ? undefined : new Date(Math.max(...times));
  }

  /** Throws LOCKED_OUT (429, `retryAfterSeconds`) when any key is locked. */
  async assertUnlocked(keys: string[], what: string, now = new Date()): Promise<void> {
    const until = await this.lockedUntil(keys, now);
    if (until) throw lockedOut(what, until, now);
  }

  /**
   * Reserves one attempt on the key before the password check, atomically: refused when the
   * key is locked or `max` attempts of this window are already taken (parallel requests
   * included). A refusal past the limit locks the key. The caller resets the key on success
   * and calls `lockIfReached` on failure.
   */
  async reserve(key: string, max: number, now = new Date()): Promise<{ allowed: true; attempt: number } | { allowed: false; until: Date }> {
    const windowStart = new Date(now.getTime() - this.#policy.windowMs);
    const row = await this.#db
      .insertInto('auth_throttle')
      .values({ key, failures: 1, window_started_at: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql`case when auth_throttle.locked_until > ${now} then auth_throttle.failures
            when auth_throttle.window_started_at < ${windowStart} then 1 else auth_throttle.failures + 1 end`,
          window_started_at: sql`case when (auth_throttle.locked_until is null or auth_throttle.locked_until <= ${now}) and auth_throttle.window_started_at < ${windowStart}
            then ${now} else auth_throttle.window_started_at end`,
        }),
      )
      .returning(['failures', 'locked_until'])
      .executeTakeFirstOrThrow();
    if (row.locked_until !== null && row.locked_until > now) return { allowed: false, until: row.locked_until };
    const attempt = toNumber(row.failures);
    if (attempt <= max) return { allowed: true, attempt };
    return { allowed: false, until: await this.#lock(key, now) };
  }

  /** After a failed reserved attempt: locks the key when that attempt was the `max`-th. */
  async lockIfReached(key: string, attempt: number, max: number, now = new Date()): Promise<Date | undefined> {
    return attempt >= max ? this.#lock(key, now) : undefined;
  }

  /** Failures counted on the key in the current window (0 when none). */
  async count(key: string, now = new Date()): Promise<number> {
    const row = await this.#db.selectFrom('auth_throttle').select(['failures', 'window_started_at']).where('key', '=', key).executeTakeFirst();
    if (!row || row.window_started_at.getTime() < now.getTime() - this.#policy.windowMs) return 0;
    return toNumber(row.failures);
  }

  /** Locks the key (unless it already is) and returns the lock end. */
  async #lock(key: string, now: Date): Promise<Date> {
    const until = new Date(now.getTime() + this.#policy.lockMs);
    const row = await this.#db
      .updateTable('auth_throttle')
      .set({
        locked_until: sql`case when auth_throttle.locked_until > ${now} then auth_throttle.locked_until else ${until} end`,
        failures: 0,
        window_started_at: now,
      })
      .where('key', '=', key)
      .returning('locked_until')
      .executeTakeFirst();
    return row?.locked_until ?? until;
  }

  /** Counts one failure; returns the lock end when this failure reached `max`. */
  async fail(key: string, max: number, now = new Date()): Promise<Date | undefined> {
    const count = await this.hit(key, now);
    if (count < max) return undefined;
    const until = new Date(now.getTime() + this.#policy.lockMs);
    await this.#db.updateTable('auth_throttle').set({ locked_until: until, failures: 0, window_started_at: now }).where('key', '=', key).execute();
    return until;
  }

  /** Counts one event in the key's window and returns the count so far (also for rate limits). */
  async hit(key: string, now = new Date()): Promise<number> {
    const windowStart = new Date(now.getTime() - this.#policy.windowMs);
    const row = await this.#db
      .insertInto('auth_throttle')
      .values({ key, failures: 1, window_started_at: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql`case when auth_throttle.window_started_at < ${windowStart} then 1 else auth_throttle.failures + 1 end`,
          window_started_at: sql`case when auth_throttle.window_started_at < ${windowStart} then ${now} else auth_throttle.window_started_at end`,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return toNumber(row.failures);
  }

  async reset(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.#db.deleteFrom('auth_throttle').where('key', 'in', keys).execute();
  }
}

export function lockedOut(what: string, until: Date, now = new Date()): GatehouseError {
  const retryAfterSeconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new GatehouseError(ErrorCodes.LOCKED_OUT, `too many failed ${what}; try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s)`, {
    details: { retryAfterSeconds },
  });
}

export const throttleKeys = {
  loginSource: (email: string, source: string | null) => `login:${email.trim().toLowerCase()}|${source ?? '-'}`,
  loginUser: (email: string) => `login-user:${email.trim().toLowerCase()}`,
  /** Unauthenticated sign-in events from one source / from anywhere, for audit aggregation. */
  loginAuditSource: (source: string | null) => `login-audit:${source ?? '-'}`,
  loginAuditAll: () => 'login-audit:*',
  mfa: (userId: string) => `mfa:${userId}`,
  emailSend: (userId: string) => `mfa-email-send:${userId}`,
};
