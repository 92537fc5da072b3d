/** Table types of migration 0010 (migrations/0010-web-sessions.ts). */
import type { ColumnType } from 'kysely';

export type SessionKind = 'proxy' | 'web';

export interface WebQueryHistoryTable {
  id: string;
  user_id: string;
  project_id: string;
  resource_id: string;
  account_id: string;
  sql: string;
  ran_at: ColumnType<Date, Date | undefined, Date>;
}

export interface WebAccessTables {
  web_query_history: WebQueryHistoryTable;
}
