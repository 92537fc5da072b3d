/**
 * Export of a filtered, sorted view as CSV or JSON, streamed: a cursor reads BATCH_ROWS rows at
 * a time on its own connection and the next batch is only read once the response has drained,
 * so memory stays flat whatever the table's size. CSV is what psql's
 * `COPY (…) TO STDOUT WITH (FORMAT csv, HEADER)` writes: PostgreSQL's text of each value,
 * NULL as an empty field, an empty string as "", quoted when it holds a comma, a quote or a
 * line break. JSON is an array of objects, cells encoded as in the grid but never cut.
 */
import type { ServerResponse } from 'node:http';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { encodeCell } from '../cells.ts';
import { Params, qualifiedName, quoteIdent } from '../sql-text.ts';
import type { RelationInfo } from './catalog.ts';
import { effectiveSort, orderByClause, REL_ALIAS, whereClause, type Filter, type SortKey } from './rows.ts';

export const BATCH_ROWS = 5000;
const rawTypes = { getTypeParser: () => (value: string) => value };

export interface ExportRequest {
  format: 'csv' | 'json';
  filters: Filter[];
  sort: SortKey[];
}

export function exportQuery(rel: RelationInfo, request: ExportRequest): { text: string; values: unknown[] } {
  const params = new Params();
  const where = whereClause(rel, request.filters, params);
  const select = rel.columns.map((c) => quoteIdent(c.name)).join(', ');
  return {
    text: `select ${select} from ${qualifiedName(rel.schema, rel.name)} as ${REL_ALIAS} where ${where}${orderByClause(effectiveSort(rel, request.sort))}`,
    values: params.values,
  };
}

export async function streamExport(client: pg.Client, rel: RelationInfo, request: ExportRequest, res: ServerResponse): Promise<number> {
  const { text, values } = exportQuery(rel, request);
  const cursor = client.query(
    new Cursor<Array<string | null>>(text, values, {
      rowMode: 'array',
      types: rawTypes,
    }),
  );
  const base = `${rel.schema}.${rel.name}`.replace(/[^A-Za-z0-9._-]+/g, '_');
  res.statusCode = 200;
  res.setHeader('content-type', request.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="${base}.${request.format}"`);
  res.setHeader('cache-control', 'no-store');
  let rows = 0;
  let aborted = false;
  res.once('close', () => {
    aborted = !res.writableFinished;
  });
  try {
    await write(res, request.format === 'csv' ? `${rel.columns.map((c) => csvField(c.name)).join(',')}\n` : '[');
    for (;;) {
      const batch = await cursor.read(BATCH_ROWS);
      if (batch.length === 0 || aborted) break;
      const chunk =
        request.format === 'csv'
          ? batch.map((r) => `${r.map(csvValue).join(',')}\n`).join('')
          : batch.map((r, i) => `${rows + i === 0 ? '\n' : ',\n'}${jsonRow(rel, r)}`).join('');
      rows += batch.length;
      await write(res, chunk);
    }
    if (!aborted) await write(res, request.format === 'csv' ? '' : '\n]\n');
    res.end();
    return rows;
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

function jsonRow(rel: RelationInfo, row: Array<string | null>): string {
  const out: Record<string, unknown> = {};
  rel.columns.forEach((c, i) => {
    out[c.name] = encodeCell(row[i], c.typeOid, null);
  });
  return JSON.stringify(out);
}

function csvValue(value: string | null): string {
  if (value === null) return '';
  return value === '' ? '""' : csvField(value);
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) || value === '\\.' ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Writes and waits for 'drain' when the socket's buffer is full (backpressure). */
function write(res: ServerResponse, chunk: string): Promise<void> {
  if (chunk === '' || res.destroyed) return Promise.resolve();
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
