/**
 * Web Access (issue 12) as the browser sees it: the JSON routes under /api/v1/web-sessions
 * and the SQL terminal's WebSocket. Types mirror docs/web-access.md; every call goes through
 * the console's `api()` (bearer token, refresh once on 401).
 */
import { api, ApiError, currentAccessToken, refreshSession } from '../api.ts';

export interface WebLimits {
  idleTimeoutSeconds: number;
  statementTimeoutMs: number;
  maxRowsPerResult: number;
}
export interface WebSessionInfo {
  id: string;
  /** The Gatehouse session (kind web) it runs in: the sessions list and its log. */
  sessionId: string;
  expiresAt: string;
  resource: { id: string; name: string; database?: string };
  account: { id: string; name: string; username?: string };
  limits: WebLimits;
}
export interface StartInput {
  projectId: string;
  resourceId: string;
  accountId: string;
  duration: string;
  mfa?: { method: 'totp' | 'email'; code: string };
  accessRequestId?: string;
}

export type RelationKind = 'table' | 'view' | 'materialized_view';
export interface Relation {
  name: string;
  kind: RelationKind;
  estimatedRows: number | null;
  hasPrimaryKey: boolean;
}
export interface SchemaEntry {
  name: string;
  relations: Relation[];
}

export interface Column {
  name: string;
  type: string;
  nullable: boolean;
  primaryKeyPosition: number | null;
  default?: string | null;
}
export interface TableColumns {
  columns: Column[];
  editable: boolean;
  readOnlyReason?: string | null;
}

export const OPERATORS = ['=', '<>', '<', '>', '<=', '>=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL', 'IN'] as const;
export type Operator = (typeof OPERATORS)[number];
export interface Filter {
  column: string;
  op: Operator;
  value?: unknown;
}
export interface Sort {
  column: string;
  direction: 'asc' | 'desc';
}
/** A JSON value as cells.ts encodes it, or { truncated, length, value } for long text. */
export type Cell = unknown;
export interface RowsPage {
  columns: { name: string; type: string }[];
  rows: Cell[][];
  next?: string;
  total: { count: number; exact: boolean };
}

export type Change =
  | { op: 'insert'; values: Record<string, unknown> }
  | { op: 'update'; key: Record<string, unknown>; original: Record<string, unknown>; values: Record<string, unknown> }
  | { op: 'delete'; key: Record<string, unknown>; original: Record<string, unknown> };
export interface ChangesAnswer {
  statements?: string[];
  applied?: number;
}

export interface Catalog {
  schemas: Array<{ name: string; tables: Array<{ name: string; kind: RelationKind; columns: Array<{ name: string; type: string }> }> }>;
}
export interface HistoryEntry {
  id: string;
  sql: string;
  ranAt: string;
}

const base = (id: string) => `/web-sessions/${encodeURIComponent(id)}`;
const tablePath = (id: string, schema: string, table: string) => `${base(id)}/tables/${encodeURIComponent(schema)}/${encodeURIComponent(table)}`;

export const webApi = {
  start: (input: StartInput) => api<WebSessionInfo>('POST', '/web-sessions', input),
  end: (id: string) => api<unknown>('DELETE', base(id)),
  schema: (id: string) => api<{ schemas: SchemaEntry[] }>('GET', `${base(id)}/schema`),
  columns: (id: string, schema: string, table: string) => api<TableColumns>('GET', `${tablePath(id, schema, table)}/columns`),
  rows: (id: string, schema: string, table: string, body: { filters: Filter[]; sort: Sort[]; limit: number; after?: string }) =>
    api<RowsPage>('POST', `${tablePath(id, schema, table)}/rows`, body),
  changes: (id: string, schema: string, table: string, changes: Change[], preview: boolean) =>
    api<ChangesAnswer>('POST', `${tablePath(id, schema, table)}/changes`, { changes, ...(preview ? { preview: true } : {}) }),
  /** One whole cell (never truncated), by the row's primary key: "show all" of a long value. */
  cell: (id: string, schema: string, table: string, key: Record<string, unknown>, column: string) =>
    api<{ value: Cell }>('POST', `${tablePath(id, schema, table)}/cell`, { key, column }),
  catalog: (id: string) => api<Catalog>('GET', `${base(id)}/catalog`),
  history: (accountId: string) => api<{ entries: HistoryEntry[] }>('GET', `/web-sessions/history?accountId=${encodeURIComponent(accountId)}`),
  /** The Gatehouse session behind it: its status tells when it was revoked or expired. */
  session: (sessionId: string) =>
    api<{ session: { status: string; endReason?: string | null; expiresAt: string } }>('GET', `/sessions/${encodeURIComponent(sessionId)}`),
};

/** The export route (streamed, never truncated), with the bearer token and one refresh on 401. */
async function fetchExport(id: string, schema: string, table: string, format: 'csv' | 'json', filters: Filter[], sort: Sort[]): Promise<Response> {
  const q = new URLSearchParams({ format, filters: JSON.stringify(filters), sort: JSON.stringify(sort) });
  const url = `/api/v1${tablePath(id, schema, table)}/export?${q.toString()}`;
  const get = () => fetch(url, { headers: currentAccessToken() ? { authorization: `Bearer ${currentAccessToken()}` } : {}, credentials: 'same-origin' });
  let res = await get();
  if (res.status === 401 && (await refreshSession())) res = await get();
  if (!res.ok) {
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    throw new ApiError(res.status, json.error?.code ?? 'GATEHOUSE_ERR_INTERNAL', json.error?.message ?? `export failed (${res.status})`, json);
  }
  return res;
}

/** The export of the current filtered view: fetched with the bearer token, saved as a file. */
export async function exportTable(id: string, schema: string, table: string, format: 'csv' | 'json', filters: Filter[], sort: Sort[]): Promise<void> {
  const res = await fetchExport(id, schema, table, format, filters, sort);
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = `${schema}.${table}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

// ---- The terminal's WebSocket -------------------------------------------------------------

export type TxState = 'idle' | 'in-transaction' | 'failed';
export type ServerMessage =
  | {
      type: 'result';
      id: string;
      resultId?: string;
      columns: { name: string; typeOid: number }[];
      rows: Cell[][];
      rowCount: number | null;
      command: string | null;
      durationMs: number;
      more: boolean;
    }
  /** `code` is the SQLSTATE; `position` is 1-based in the run's whole `sql`. */
  | { type: 'error'; id?: string; code: string; message: string; position?: number; detail?: string; hint?: string }
  | { type: 'notice'; severity?: string; message: string }
  | { type: 'tx'; state: TxState }
  | { type: 'done'; id: string }
  | { type: 'ended'; reason: string; message: string };
export type ClientMessage =
  { type: 'run'; id: string; sql: string } | { type: 'fetch'; id: string; resultId: string; rows: number } | { type: 'cancel' } | { type: 'ping' };

/** The subprotocols the terminal offers: the version, then the bearer token (a browser WebSocket has no headers). */
export const TERMINAL_PROTOCOL = 'gatehouse.terminal.v1';

export interface TerminalSocket {
  send(m: ClientMessage): void;
  close(): void;
}

export function openTerminal(id: string, on: { message(m: ServerMessage): void; open(): void; closed(code: number, reason: string): void }): TerminalSocket {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const token = currentAccessToken();
  const ws = new WebSocket(
    `${scheme}://${window.location.host}/api/v1${base(id)}/terminal`,
    token ? [TERMINAL_PROTOCOL, `bearer.${token}`] : [TERMINAL_PROTOCOL],
  );
  ws.onopen = () => on.open();
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return;
    try {
      on.message(JSON.parse(e.data) as ServerMessage);
    } catch {
      /* not ours */
    }
  };
  ws.onclose = (e) => on.closed(e.code, e.reason);
  return {
    send: (m) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    },
    close: () => ws.close(1000, 'closed by the user'),
  };
}

/** The codes that mean the web session is over (the user leaves the view); the server answers them with 410 (421: another replica holds it). */
export const ENDED_CODES = new Set([
  'GATEHOUSE_ERR_SESSION_REVOKED',
  'GATEHOUSE_ERR_SESSION_EXPIRED',
  'GATEHOUSE_ERR_SESSION_ENDED',
  'GATEHOUSE_ERR_WEB_SESSION_ELSEWHERE',
]);

/** Type names the grid needs from a terminal column's type OID (how json and bytea read). */
const TYPE_NAMES: Record<number, string> = {
  17: 'bytea',
  114: 'json',
  3802: 'jsonb',
  16: 'boolean',
  20: 'bigint',
  21: 'smallint',
  23: 'integer',
  25: 'text',
  1043: 'varchar',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamptz',
  1700: 'numeric',
  2950: 'uuid',
  701: 'float8',
  700: 'float4',
};
export function typeName(oid: number): string {
  return TYPE_NAMES[oid] ?? `oid ${oid}`;
}
