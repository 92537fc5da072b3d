/**
 * One SQL terminal (one browser WebSocket) of a web session: its own PostgreSQL connection,
 * scripts run statement by statement through a cursor (several statements → several
 * results; the last one's further rows on demand), NOTICEs, the transaction state after each
 * statement, a real CancelRequest through the gateway, and the statement timeout enforced by
 * cancelling. Messages: docs/web-access.md, "SQL terminal".
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { createLogger } from '../../../../proxy-core/src/log.ts';
import { encodeCell, type Cell } from '../cells.ts';
import { databaseErrorFields } from '../query-error.ts';
import type { WebSession } from '../web-session.ts';
import type { TerminalMessage } from '../schemas.ts';
import { scriptPosition, splitStatements, type ScriptStatement } from './split-statements.ts';

const log = createLogger('web-access.terminal');
const rawTypes = { getTypeParser: () => (value: string) => value };
/** PostgreSQL's query_canceled. */
const QUERY_CANCELED = '57014';

export type ServerMessage =
  | {
      type: 'result';
      id: string;
      resultId: string;
      columns: Array<{ name: string; typeOid: number }>;
      rows: Cell[][];
      rowCount: number | null;
      command: string | null;
      durationMs: number;
      more: boolean;
    }
  | {
      type: 'error';
      id?: string;
      code: string;
      message: string;
      position?: number;
      detail?: string;
      hint?: string;
    }
  | { type: 'notice'; message: string; severity: string }
  | { type: 'tx'; state: 'idle' | 'in-transaction' | 'failed' }
  | { type: 'done'; id: string }
  | { type: 'pong' }
  | { type: 'ended'; reason: string; message: string };

interface OpenResult {
  resultId: string;
  cursor: Cursor<Array<string | null>>;
  columns: Array<{ name: string; typeOid: number }>;
  /** Rows read ahead (to know whether there are more). */
  ahead: Array<Array<string | null>>;
  sent: number;
}

interface CursorInternals {
  _result: {
    fields: Array<{ name: string; dataTypeID: number }>;
    command: string | null;
    rowCount: number | null;
  };
  state: string;
}

export class TerminalSession {
  readonly #session: WebSession;
  readonly #send: (message: ServerMessage) => void;
  readonly #record: (sql: string) => void;
  #client: pg.Client | undefined;
  #queue: Promise<void> = Promise.resolve();
  #open: OpenResult | undefined;
  #running = false;
  #timedOut = false;
  #closed = false;

  constructor(options: { session: WebSession; send: (message: ServerMessage) => void; recordHistory: (sql: string) => void }) {
    this.#session = options.session;
    this.#send = options.send;
    this.#record = options.recordHistory;
  }

  /** Opens the terminal's connection and reports the transaction state. */
  async start(): Promise<void> {
    const client = await this.#session.connect();
    this.#client = client;
    client.on('notice', (notice: { message?: string; severity?: string }) =>
      this.#send({
        type: 'notice',
        message: notice.message ?? '',
        severity: notice.severity ?? 'NOTICE',
      }),
    );
    client.once('end', () => {
      if (!this.#closed)
        this.#send({
          type: 'error',
          code: '08006',
          message: 'the connection to the database was lost; reopen the terminal',
        });
    });
    this.#sendTx();
  }

  handle(message: TerminalMessage): void {
    this.#session.touch();
    switch (message.type) {
      case 'ping':
        this.#send({ type: 'pong' });
        return;
      case 'cancel':
        void this.cancel();
        return;
      case 'run':
        this.#enqueue(() => this.#run(message.id, message.sql));
        return;
      case 'fetch':
        this.#enqueue(() => this.#fetch(message.id, message.resultId, message.rows));
        return;
    }
  }

  /** A real CancelRequest through the gateway for whatever runs now. */
  async cancel(): Promise<void> {
    if (!this.#running || !this.#client) return;
    await this.#session.tunnel.cancel(this.#client).catch((err: unknown) => log.info({ err }, 'cancel failed'));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    if (client) await this.#session.release(client);
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue
      .then(() => (this.#closed ? undefined : this.#session.busy(work)))
      .catch((err: unknown) => {
        if (!this.#closed)
          this.#send({
            type: 'error',
            code: '58000',
            message: (err as Error).message,
          });
      });
  }

  async #run(id: string, sql: string): Promise<void> {
    const client = this.#requireClient();
    await this.#closeOpen(client);
    this.#record(sql);
    const statements = splitStatements(sql);
    for (const [index, statement] of statements.entries()) {
      const last = index === statements.length - 1;
      const ok = await this.#execute(client, id, `${id}:${index}`, statement, last);
      this.#sendTx();
      if (!ok) break;
    }
    this.#send({ type: 'done', id });
  }

  /** One statement; false when it failed (the rest of the script is not run). */
  async #execute(client: pg.Client, id: string, resultId: string, statement: ScriptStatement, keepOpen: boolean): Promise<boolean> {
    const max = this.#session.limits.maxRowsPerResult;
    const started = performance.now();
    const cursor = client.query(
      new Cursor<Array<string | null>>(statement.sql, undefined, {
        rowMode: 'array',
        types: rawTypes,
      }),
    );
    this.#running = true;
    this.#timedOut = false;
    const timer = setTimeout(() => {
      this.#timedOut = true;
      void this.cancel();
    }, this.#session.limits.statementTimeoutMs);
    try {
      let rows = await cursor.read(max + 1);
      const internals = cursor as unknown as CursorInternals;
      const columns = internals._result.fields.map((f) => ({
        name: f.name,
        typeOid: f.dataTypeID,
      }));
      let ahead = rows.slice(max);
      rows = rows.slice(0, max);
      let more = ahead.length > 0;
      let total = rows.length;
      if (more && !keepOpen) {
        // Not the last statement: run it to its end (as psql would), send only the first rows.
        total += ahead.length;
        for (let batch = await cursor.read(max); batch.length > 0; batch = await cursor.read(max)) total += batch.length;
        ahead = [];
        more = false;
      }
      const result = internals._result;
      this.#send({
        type: 'result',
        id,
        resultId,
        columns,
        rows: rows.map((r) => encodeRow(r, columns)),
        rowCount: more ? null : (result.rowCount ?? (columns.length > 0 ? total : null)),
        command: result.command,
        durationMs: Math.round(performance.now() - started),
        more,
      });
      if (more) this.#open = { resultId, cursor, columns, ahead, sent: rows.length };
      else await cursor.close();
      return true;
    } catch (err) {
      this.#sendError(id, err, statement);
      await cursor.close().catch(() => undefined);
      return false;
    } finally {
      clearTimeout(timer);
      this.#running = false;
    }
  }

  async #fetch(id: string, resultId: string, wanted: number): Promise<void> {
    const open = this.#open;
    if (!open || open.resultId !== resultId) {
      this.#send({
        type: 'error',
        id,
        code: '34000',
        message: 'that result is no longer open (a later statement closed it); run the statement again',
      });
      this.#send({ type: 'done', id });
      return;
    }
    const count = Math.min(wanted, this.#session.limits.maxRowsPerResult);
    const started = performance.now();
    this.#running = true;
    try {
      const read = open.ahead.length >= count + 1 ? [] : await open.cursor.read(count + 1 - open.ahead.length);
      const all = [...open.ahead, ...read];
      const rows = all.slice(0, count);
      open.ahead = all.slice(count);
      open.sent += rows.length;
      const more = open.ahead.length > 0;
      const internals = open.cursor as unknown as CursorInternals;
      this.#send({
        type: 'result',
        id,
        resultId,
        columns: open.columns,
        rows: rows.map((r) => encodeRow(r, open.columns)),
        rowCount: more ? null : open.sent,
        command: internals._result.command,
        durationMs: Math.round(performance.now() - started),
        more,
      });
      if (!more) {
        this.#open = undefined;
        await open.cursor.close();
      }
    } catch (err) {
      this.#open = undefined;
      this.#sendError(id, err);
    } finally {
      this.#running = false;
      this.#sendTx();
      this.#send({ type: 'done', id });
    }
  }

  async #closeOpen(_client: pg.Client): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    if (open) await open.cursor.close().catch(() => undefined);
  }

  #sendError(id: string, err: unknown, statement?: ScriptStatement): void {
    const fields = databaseErrorFields(err);
    if (!fields) {
      log.info({ err }, 'terminal statement failed outside the database');
      this.#send({
        type: 'error',
        id,
        code: '08006',
        message: (err as Error).message,
      });
      return;
    }
    const timedOut = fields.code === QUERY_CANCELED && this.#timedOut;
    this.#send({
      type: 'error',
      id,
      code: fields.code,
      message: timedOut
        ? `the statement ran longer than ${this.#session.limits.statementTimeoutMs} ms, the Web Access statement timeout (--web-statement-timeout), and was cancelled`
        : fields.message,
      ...(fields.position !== undefined && statement && { position: scriptPosition(statement, fields.position) }),
      ...(fields.detail !== undefined && { detail: fields.detail }),
      ...(fields.hint !== undefined && { hint: fields.hint }),
    });
  }

  #sendTx(): void {
    const status = (this.#client as unknown as { getTransactionStatus(): string | null } | undefined)?.getTransactionStatus();
    this.#send({
      type: 'tx',
      state: status === 'T' ? 'in-transaction' : status === 'E' ? 'failed' : 'idle',
    });
  }

  #requireClient(): pg.Client {
    if (!this.#client) throw new Error('the terminal has no database connection');
    return this.#client;
  }
}

function encodeRow(row: Array<string | null>, columns: Array<{ typeOid: number }>): Cell[] {
  return columns.map((c, i) => encodeCell(row[i] ?? null, c.typeOid));
}
