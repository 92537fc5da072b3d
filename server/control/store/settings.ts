import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type SettingsRepo = ReturnType<typeof createSettingsRepo>;

export function createSettingsRepo(db: Kysely<Database>) {
  return {
    async get(key: string): Promise<string | undefined> {
      const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
      return row?.value;
    },
    async getMany(keys: string[]): Promise<Map<string, string>> {
      const rows = await db.selectFrom('settings').select(['key', 'value']).where('key', 'in', keys).execute();
      return new Map(rows.map((row) => [row.key, row.value]));
    },
    /**
     * Writes all values unless one of the keys already exists (first writer wins, e.g. two
     * replicas creating the CA at once). Returns whether this call wrote them.
     */
    async insertAllIfAbsent(values: Record<string, string>): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const keys = Object.keys(values);
        const existing = await trx.selectFrom('settings').select('key').where('key', 'in', keys).forUpdate().execute();
        if (existing.length > 0) return false;
        const result = await trx
          .insertInto('settings')
          .values(keys.map((key) => ({ key, value: values[key] })))
          .onConflict((oc) => oc.column('key').doNothing())
          .executeTakeFirst();
        return Number(result.numInsertedOrUpdatedRows ?? 0) === keys.length;
      });
    },
  };
}
