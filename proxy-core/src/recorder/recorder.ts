/**
 * The recorder: fed the same buffers the splice forwards (after authentication), it parses
 * a read-only view of both directions into `statement` events. It never modifies or keeps
 * the buffers; it copies only the SQL (and parameters) it records.
 *
 * Pairing is by order (FIFO): every Query, FunctionCall and Sync opens a unit of work and
 * every ReadyForQuery closes the oldest open one, so pipelined traffic pairs correctly.
 * Inside an extended unit, each Execute is completed by the next CommandComplete,
 * EmptyQueryResponse or PortalSuspended; an ErrorResponse fails the current Execute and
 * the server skips the rest of the unit until Sync.
 */
import { createLogger } from '../log.ts';
import { BackendCode, FrontendCode } from '../protocol/constants.ts';
import { SqlState } from '../protocol/sqlstate.ts';
import type { DisconnectReason, SessionEventBody, StatementOutcome, UnsequencedSessionEvent } from './events.ts';
import { MessageWalker } from '../protocol/message-walker.ts';
import {
  decodeBindParams,
  decodeClose,
  decodeCommandComplete,
  decodeError,
  decodeExecutePortal,
  decodeFunctionOid,
  decodeNames,
  decodeParse,
  decodeQuery,
  ERROR_CAPTURE,
  MAX_BIND_CAPTURE,
  MAX_SQL_BYTES,
  NAMES_CAPTURE,
  type SqlText,
} from './payloads.ts';

const log = createLogger('recorder');

/** Prepared statements remembered per connection (oldest forgotten first). */
export const MAX_PREPARED_STATEMENTS = 1000;
const MAX_PORTALS = 100;
const UNKNOWN_STATEMENT: SqlText = { sql: '<unknown prepared statement>', truncated: false };

export interface RecorderOptions {
  sessionId: string;
  connectionId: string;
  /** Record bind parameters as 'redacted' (default true). */
  redactBindParams?: boolean;
  emit: (event: UnsequencedSessionEvent) => void;
  /** Milliseconds since the epoch, fractional allowed. */
  now?: () => number;
}

/** What the connect event records about the client and the backend. */
export type ConnectInfo = Omit<Extract<SessionEventBody, { type: 'connect' }>, 'type'>;

export interface Recorder {
  onClientData(buf: Buffer): void;
  onServerData(buf: Buffer): void;
  /**
   * The walkers of each direction, for a splice that walks the messages anyway (to inject at a
   * boundary): it pushes the bytes into these instead of calling onClientData/onServerData, so
   * each direction is walked once. A framing error then surfaces in the splice (which ends the
   * connection); an error in the recording itself only stops the recording.
   */
  readonly walkers: { client: MessageWalker; server: MessageWalker };
  onConnect(info: ConnectInfo): void;
  onClose(reason: DisconnectReason, bytes: { bytesIn: number; bytesOut: number }): void;
}

interface Statement {
  protocol: 'simple' | 'extended' | 'function-call';
  text: SqlText;
  params?: (string | null)[] | 'redacted';
  startedAt: number;
  tag?: string;
  rows?: number;
  error?: { sqlstate: string; message: string };
  copy?: { direction: 'in' | 'out'; binary: boolean; messages: number; bytes: number };
}

interface Unit {
  kind: 'simple' | 'extended';
  statements: Statement[];
  /** Next statement the server will complete (extended). */
  cursor: number;
  /** Extended: Sync seen (no more messages join this unit). */
  synced: boolean;
  startedAt: number;
  /** Extended: the last Parse's SQL, for errors not tied to an Execute. */
  lastParse?: SqlText;
  /** Extended: when the first message after the last Execute arrived. */
  pendingStart?: number;
}

interface Portal {
  text: SqlText;
  params?: (string | null)[] | 'redacted';
  truncated: boolean;
}

const defaultNow = (): number => performance.timeOrigin + performance.now();

export function createRecorder(options: RecorderOptions): Recorder {
  return new ConnectionRecorder(options);
}

class ConnectionRecorder implements Recorder {
  private readonly now: () => number;
  private readonly redact: boolean;
  private readonly units: Unit[] = [];
  private readonly prepared = new Map<string, SqlText>();
  private readonly portals = new Map<string, Portal>();
  private readonly client: MessageWalker;
  private readonly server: MessageWalker;
  readonly walkers: { client: MessageWalker; server: MessageWalker };
  private copyIn: Statement | undefined;
  private copyOut: Statement | undefined;
  private broken = false;
  private closed = false;

  constructor(private readonly options: RecorderOptions) {
    this.now = options.now ?? defaultNow;
    this.redact = options.redactBindParams ?? true;
    this.client = new MessageWalker(this.clientLimit, (c, p, l) => {
      if (!this.broken && !this.closed) this.safely(() => this.onClientMessage(c, p, l));
    });
    this.server = new MessageWalker(serverLimit, (c, p, l) => {
      if (!this.broken && !this.closed) this.safely(() => this.onServerMessage(c, p, l));
    });
    this.walkers = { client: this.client, server: this.server };
  }

  onClientData(buf: Buffer): void {
    if (!this.broken && !this.closed) this.safely(() => this.client.push(buf));
  }

  onServerData(buf: Buffer): void {
    if (!this.broken && !this.closed) this.safely(() => this.server.push(buf));
  }

  onConnect(info: ConnectInfo): void {
    this.emit(this.now(), { type: 'connect', ...definedOnly(info) });
  }

  onClose(reason: DisconnectReason, bytes: { bytesIn: number; bytesOut: number }): void {
    if (this.closed) return;
    this.closed = true;
    const lost = { sqlstate: SqlState.CONNECTION_FAILURE, message: 'connection closed before the statement completed' };
    for (const unit of this.units) {
      const from = unit.kind === 'simple' ? 0 : unit.cursor;
      for (const st of unit.statements.slice(from)) {
        st.error ??= lost;
        this.emitStatement(st);
      }
    }
    this.units.length = 0;
    this.emit(this.now(), { type: 'disconnect', reason, bytesIn: bytes.bytesIn, bytesOut: bytes.bytesOut });
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // The splice carries on; only this connection's recording stops.
      this.broken = true;
      log.warn({ err, connectionId: this.options.connectionId }, 'recorder stopped: unparseable stream');
    }
  }

  private readonly clientLimit = (code: number): number => {
    switch (code) {
      case FrontendCode.Query:
        return MAX_SQL_BYTES + 1;
      case FrontendCode.Parse:
        return MAX_SQL_BYTES + NAMES_CAPTURE;
      case FrontendCode.Bind:
        return this.redact ? NAMES_CAPTURE : MAX_BIND_CAPTURE;
      case FrontendCode.Execute:
      case FrontendCode.Close:
      case FrontendCode.FunctionCall:
        return NAMES_CAPTURE;
      default:
        return 0;
    }
  };

  // ---- client → server -------------------------------------------------------------

  private onClientMessage(code: number, payload: Buffer, length: number): void {
    switch (code) {
      case FrontendCode.Query:
        this.units.push(this.singleStatementUnit('simple', decodeQuery(payload)));
        return;
      case FrontendCode.FunctionCall: {
        const oid = decodeFunctionOid(payload);
        const unit = this.singleStatementUnit('function-call', { sql: `<function call oid ${oid ?? '?'}>`, truncated: false });
        if (this.redact) unit.statements[0].params = 'redacted';
        this.units.push(unit);
        return;
      }
      case FrontendCode.Parse: {
        const p = decodeParse(payload);
        const text = { sql: p.sql, truncated: p.truncated };
        remember(this.prepared, p.name, text, MAX_PREPARED_STATEMENTS);
        const unit = this.openExtendedUnit();
        unit.lastParse = text;
        return;
      }
      case FrontendCode.Bind:
        this.onBind(payload, length);
        return;
      case FrontendCode.Execute:
        this.onExecute(decodeExecutePortal(payload));
        return;
      case FrontendCode.Sync:
        this.openExtendedUnit().synced = true;
        return;
      case FrontendCode.Close: {
        const c = decodeClose(payload);
        if (c?.kind === 'statement') this.prepared.delete(c.name);
        if (c?.kind === 'portal') this.portals.delete(c.name);
        this.openExtendedUnit();
        return;
      }
      case FrontendCode.Describe:
      case FrontendCode.Flush:
        this.openExtendedUnit();
        return;
      case FrontendCode.CopyData:
        if (this.copyIn?.copy) {
          this.copyIn.copy.messages++;
          this.copyIn.copy.bytes += length;
        }
        return;
      default:
        return; // CopyDone, CopyFail, Terminate, password messages: nothing to record
    }
  }

  private onBind(payload: Buffer, length: number): void {
    this.openExtendedUnit();
    const [portal, statement] = decodeNames(payload);
    const text = this.prepared.get(statement) ?? UNKNOWN_STATEMENT;
    const entry: Portal = { text, truncated: text.truncated };
    if (this.redact) {
      if (bindHasParams(payload)) entry.params = 'redacted';
    } else {
      const decoded = decodeBindParams(payload, payload.length === length);
      if (decoded.params && decoded.params.length > 0) entry.params = decoded.params;
      entry.truncated ||= decoded.truncated;
    }
    remember(this.portals, portal, entry, MAX_PORTALS);
  }

  private onExecute(portalName: string): void {
    const unit = this.openExtendedUnit();
    const portal = this.portals.get(portalName);
    const text = portal ? { sql: portal.text.sql, truncated: portal.truncated } : UNKNOWN_STATEMENT;
    const st: Statement = { protocol: 'extended', text, startedAt: unit.pendingStart ?? this.now() };
    if (portal?.params !== undefined) st.params = portal.params;
    unit.pendingStart = undefined;
    unit.statements.push(st);
  }

  private singleStatementUnit(protocol: 'simple' | 'function-call', text: SqlText): Unit {
    const startedAt = this.now();
    return { kind: 'simple', statements: [{ protocol, text, startedAt }], cursor: 0, synced: true, startedAt };
  }

  /** The extended unit being built (until Sync), created on its first message. */
  private openExtendedUnit(): Unit {
    const last = this.units[this.units.length - 1];
    if (last && last.kind === 'extended' && !last.synced) {
      last.pendingStart ??= this.now();
      return last;
    }
    const startedAt = this.now();
    const unit: Unit = { kind: 'extended', statements: [], cursor: 0, synced: false, startedAt, pendingStart: startedAt };
    this.units.push(unit);
    return unit;
  }

  // ---- server → client -------------------------------------------------------------

  private onServerMessage(code: number, payload: Buffer, length: number): void {
    const unit = this.units[0];
    switch (code) {
      case BackendCode.CommandComplete:
        if (unit) this.onCommandComplete(unit, decodeCommandComplete(payload));
        return;
      case BackendCode.EmptyQueryResponse:
      case BackendCode.PortalSuspended:
        if (unit?.kind === 'extended') this.completeExecute(unit);
        return;
      case BackendCode.ErrorResponse:
        if (unit) this.onError(unit, decodeError(payload));
        return;
      case BackendCode.CopyInResponse:
      case BackendCode.CopyOutResponse: {
        const st = unit && currentStatement(unit);
        if (!st) return;
        const direction = code === BackendCode.CopyInResponse ? 'in' : 'out';
        st.copy = { direction, binary: payload[0] === 1, messages: 0, bytes: 0 };
        if (direction === 'in') this.copyIn = st;
        else this.copyOut = st;
        return;
      }
      case BackendCode.CopyData:
        if (this.copyOut?.copy) {
          this.copyOut.copy.messages++;
          this.copyOut.copy.bytes += length;
        }
        return;
      case BackendCode.ReadyForQuery:
        if (unit) this.onReadyForQuery(unit);
        return;
      default:
        return;
    }
  }

  private onCommandComplete(unit: Unit, cc: { tag: string; rows?: number }): void {
    const st = currentStatement(unit);
    if (!st) return;
    st.tag = cc.tag;
    st.rows = cc.rows;
    this.copyIn = this.copyOut = undefined;
    if (unit.kind === 'extended') this.completeExecute(unit);
  }

  private completeExecute(unit: Unit): void {
    const st = unit.statements[unit.cursor];
    if (!st) return;
    unit.cursor++;
    this.emitStatement(st);
  }

  private onError(unit: Unit, error: { sqlstate: string; message: string }): void {
    this.copyIn = this.copyOut = undefined;
    if (unit.kind === 'simple') {
      unit.statements[0].error ??= error;
      return;
    }
    const st = unit.statements[unit.cursor];
    if (st) {
      // this Execute failed; the server skips the rest of the unit
      st.error = error;
      unit.cursor = unit.statements.length;
      this.emitStatement(st);
      return;
    }
    // an error not tied to an Execute (Parse error, or COMMIT at Sync)
    const text = unit.lastParse ?? unit.statements[unit.statements.length - 1]?.text ?? { sql: '', truncated: false };
    this.emitStatement({ protocol: 'extended', text, startedAt: unit.startedAt, error });
  }

  private onReadyForQuery(unit: Unit): void {
    if (unit.kind === 'extended' && !unit.synced) return; // not ours: no Sync yet
    this.units.shift();
    this.copyIn = this.copyOut = undefined;
    if (unit.kind === 'simple') this.emitStatement(unit.statements[0]);
  }

  // ---- events ----------------------------------------------------------------------

  private emitStatement(st: Statement): void {
    const end = this.now();
    const outcome: StatementOutcome = st.error ? { status: 'error', ...st.error } : { status: 'ok', ...definedOnly({ tag: st.tag, rows: st.rows }) };
    const body: UnsequencedSessionEvent & { type: 'statement' } = {
      sessionId: this.options.sessionId,
      connectionId: this.options.connectionId,
      at: new Date(st.startedAt).toISOString(),
      type: 'statement',
      protocol: st.protocol,
      sql: st.text.sql,
      durationMs: Math.max(0, Math.round((end - st.startedAt) * 1000) / 1000),
      outcome,
    };
    if (st.text.truncated) body.truncated = true;
    if (st.params !== undefined) body.params = st.params;
    if (st.copy) {
      // the COPY tag's count is exact; without it (failed COPY) count text CopyData messages
      const rows = st.rows ?? (st.copy.binary ? 0 : st.copy.messages);
      body.copy = { direction: st.copy.direction, rows, bytes: st.copy.bytes };
    }
    this.deliver(body);
  }

  private emit(at: number, body: Record<string, unknown> & { type: string }): void {
    this.deliver({
      sessionId: this.options.sessionId,
      connectionId: this.options.connectionId,
      at: new Date(at).toISOString(),
      ...body,
    } as UnsequencedSessionEvent);
  }

  private deliver(event: UnsequencedSessionEvent): void {
    try {
      this.options.emit(event);
    } catch (err) {
      log.error({ err, connectionId: this.options.connectionId }, 'session event consumer failed');
    }
  }
}

function serverLimit(code: number): number {
  switch (code) {
    case BackendCode.CommandComplete:
      return NAMES_CAPTURE;
    case BackendCode.ErrorResponse:
      return ERROR_CAPTURE;
    case BackendCode.CopyInResponse:
    case BackendCode.CopyOutResponse:
      return 1;
    default:
      return 0;
  }
}

/** The statement the server is working on in this unit. */
function currentStatement(unit: Unit): Statement | undefined {
  return unit.kind === 'simple' ? unit.statements[0] : unit.statements[unit.cursor];
}

/** Whether a Bind carries parameters (reads past the two names and the format list). */
function bindHasParams(payload: Buffer): boolean {
  let off = payload.indexOf(0) + 1;
  off = payload.indexOf(0, off) + 1;
  if (off <= 0 || off + 2 > payload.length) return true;
  const nFormats = payload.readInt16BE(off);
  off += 2 + 2 * Math.max(0, nFormats);
  if (off + 2 > payload.length) return true;
  return payload.readInt16BE(off) > 0;
}

function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
