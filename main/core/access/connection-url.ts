/** `postgresql://<username>[:<password>]@127.0.0.1:<port>/<database>`, each part URL-encoded. */
export function connectionUrl(opts: { username: string; port: number; database: string; host?: string; password?: string }): string {
  const host = opts.host ?? '127.0.0.1';
  const password = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}` : '';
  return `postgresql://${encodeURIComponent(opts.username)}${password}@${host}:${opts.port}/${encodeURIComponent(opts.database)}`;
}
