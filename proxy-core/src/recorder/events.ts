/**
 * Session events: what the recorder (and the gateway around it) reports about one PG
 * connection. The shape is the contract in docs/architecture.md ("Session events").
 */

export type DisconnectReason = 'client' | 'server' | 'expired' | 'revoked' | 'error';

export type StatementOutcome = { status: 'ok'; tag?: string; rows?: number } | { status: 'error'; sqlstate: string; message: string };

export interface CopyTotals {
  direction: 'in' | 'out';
  /** CopyData message count for text COPY; the COPY tag's count for binary COPY. */
  rows: number;
  /** CopyData payload bytes. */
  bytes: number;
}

export type SessionEventBody =
  | {
      type: 'connect';
      applicationName?: string;
      clientAddress?: string;
      clientUser?: string;
      /** The OS user and process that connected to the local proxy, when its OS tells. */
      clientOsUser?: string;
      clientPid?: number;
      clientProcess?: string;
      backendPid?: number;
    }
  | { type: 'connect-failed'; sqlstate: string; message: string }
  | { type: 'disconnect'; reason: DisconnectReason; bytesIn: number; bytesOut: number }
  | {
      type: 'statement';
      protocol: 'simple' | 'extended' | 'function-call';
      sql: string;
      /** Set when `sql` (or a parameter) was cut to the recording limit. */
      truncated?: true;
      params?: (string | null)[] | 'redacted';
      durationMs: number;
      outcome: StatementOutcome;
      copy?: CopyTotals;
    };

export type SessionEvent = {
  /** Gateway-assigned, monotonic, for acks and idempotent insert. */
  seq: number;
  sessionId: string;
  connectionId: string;
  /** ISO timestamp. */
  at: string;
} & SessionEventBody;

export type StatementEvent = Extract<SessionEvent, { type: 'statement' }>;

/** What the recorder hands to its `emit` callback: everything but the gateway's `seq`. */
export type UnsequencedSessionEvent = SessionEvent extends infer E ? (E extends unknown ? Omit<E, 'seq'> : never) : never;
