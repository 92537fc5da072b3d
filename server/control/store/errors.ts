import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

/** PostgreSQL (and PGlite) report unique violations as SQLSTATE 23505. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** Runs an insert/update; a unique violation becomes CONFLICT with `message`. */
export async function conflictOnDuplicate<T>(message: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err)) throw new GatehouseError(ErrorCodes.CONFLICT, message);
    throw err;
  }
}

export function toNumber(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}
