/**
 * How `gatehouse sessions logs` prints events: one line per event in fixed columns that fit
 * an 80-column terminal (short connection ids, the statement cut to what is left), a second
 * indented line for a statement's error, and colour only on a TTY (never with NO_COLOR).
 */
import type { SessionEvent } from '../../core/api/types.ts';
import { oneLine } from '../format.ts';

const TIME = 8;
const CONN = 8;
const DURATION = 8;
const OUTCOME = 12;
const GAP = '  ';
const FIXED = TIME + CONN + DURATION + OUTCOME + GAP.length * 4;
const MIN_WIDTH = 80;
/** A statement's error goes on its own line, under the duration column. */
const DETAIL_INDENT = TIME + CONN + GAP.length * 2;
const SHORT_ID = 8;

const ANSI = { red: '\u001b[31m', dim: '\u001b[2m', bold: '\u001b[1m', reset: '\u001b[0m' } as const;

export interface LogViewOptions {
  /** Terminal width; 80 when not a terminal. */
  width: number;
  colour: boolean;
}

export function logViewOptions(stdout: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): LogViewOptions {
  const tty = Boolean(stdout.isTTY);
  const width = tty && typeof stdout.columns === 'number' && stdout.columns > MIN_WIDTH ? stdout.columns : MIN_WIDTH;
  return { width, colour: tty && env.NO_COLOR === undefined && env.TERM !== 'dumb' };
}

export function logHeader(opts: LogViewOptions): string {
  const line = row('TIME', 'CONN', 'DURATION', 'OUTCOME', 'STATEMENT', opts.width);
  return opts.colour ? `${ANSI.bold}${line}${ANSI.reset}` : line;
}

/** The lines for one event (one, or two for a failed statement). */
export function logLines(e: SessionEvent, opts: LogViewOptions): string[] {
  const time = clockTime(e.at);
  const conn = e.connectionId.slice(0, SHORT_ID);
  const paint = (text: string, colour: keyof typeof ANSI): string => (opts.colour ? `${ANSI[colour]}${text}${ANSI.reset}` : text);
  switch (e.type) {
    case 'statement': {
      const duration = formatDuration(e.durationMs);
      if (e.outcome.status === 'ok') return [row(time, conn, duration, e.outcome.tag ?? 'ok', e.sql, opts.width)];
      const first = row(time, conn, duration, `ERROR ${e.outcome.sqlstate}`, e.sql, opts.width);
      const detail = `${' '.repeat(DETAIL_INDENT)}${oneLine(`error ${e.outcome.sqlstate}: ${e.outcome.message}`, opts.width - DETAIL_INDENT)}`;
      return [paint(first, 'red'), paint(detail, 'red')];
    }
    case 'connect': {
      const what = `(connect${e.applicationName ? ` ${e.applicationName}` : ''}${e.clientAddress ? ` from ${e.clientAddress}` : ''})`;
      return [paint(row(time, conn, '', 'connect', what, opts.width), 'dim')];
    }
    case 'connect-failed':
      return [paint(row(time, conn, '', `ERROR ${e.sqlstate}`, `(connect failed: ${e.message})`, opts.width), 'red')];
    case 'disconnect':
      return [paint(row(time, conn, '', 'disconnect', `(${e.reason}, ${bytes(e.bytesIn)} in, ${bytes(e.bytesOut)} out)`, opts.width), 'dim')];
    default:
      return [row(time, conn, '', (e as { type: string }).type, '', opts.width)];
  }
}

function row(time: string, conn: string, duration: string, outcome: string, statement: string, width: number): string {
  const cells = [
    time.padEnd(TIME),
    conn.padEnd(CONN),
    duration.padStart(DURATION),
    oneLine(outcome, OUTCOME).padEnd(OUTCOME),
    oneLine(statement, width - FIXED),
  ];
  return cells.join(GAP).trimEnd();
}

function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(0, TIME);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
