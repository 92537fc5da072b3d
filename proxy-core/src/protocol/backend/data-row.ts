/** DataRow ('D'): a row of column values in text format; null for SQL NULL. */
export function parseDataRow(payload: Buffer): (string | null)[] {
  const n = payload.readInt16BE(0);
  let off = 2;
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const len = payload.readInt32BE(off);
    off += 4;
    if (len < 0) out.push(null);
    else {
      out.push(payload.toString('utf8', off, off + len));
      off += len;
    }
  }
  return out;
}
