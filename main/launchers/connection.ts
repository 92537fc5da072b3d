/** What a launcher needs to know about a running local proxy (no password: there is none). */
export interface LocalConnection {
  host: string;
  port: number;
  database: string;
  username: string;
  /** postgresql://user@127.0.0.1:port/db */
  url: string;
  /** A human label, e.g. "shop / readonly". */
  label: string;
}

/** `jdbc:postgresql://127.0.0.1:PORT/DB?user=U` */
export function jdbcUrl(conn: Pick<LocalConnection, 'host' | 'port' | 'database' | 'username'>): string {
  return `jdbc:postgresql://${conn.host}:${conn.port}/${encodeURIComponent(conn.database)}?user=${encodeURIComponent(conn.username)}`;
}
