/** `postgresql://<username>@127.0.0.1:<port>/<database>`, each part URL-encoded. */
export function connectionUrl(opts: { username: string; port: number; database: string; host?: string }): string {
  const host = opts.host ?? '127.0.0.1';
  return `postgresql://${encodeURIComponent(opts.username)}@${host}:${opts.port}/${encodeURIComponent(opts.database)}`;
}
