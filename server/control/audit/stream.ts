/**
 * `GET /audit/stream`: JSON lines of audit events after a cursor, following new ones. Each
 * stream is bounded: it ends when the client goes away, after `maxSeconds`, or when the
 * server stops; it respects back-pressure; at most `maxStreams` run at once. New events are
 * noticed at once for appends in this process and within `pollMs` for other replicas.
 */
import type { ServerResponse } from 'node:http';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { Audit } from '../audit.ts';
import type { AuditEventsRepo, AuditFilter } from '../store/audit-events.ts';

const PAGE = 500;

export interface AuditStreamOptions {
  events: AuditEventsRepo;
  audit: Audit;
  maxStreams?: number;
  pollMs?: number;
}

export class AuditStreams {
  readonly #o: Required<AuditStreamOptions>;
  readonly #live = new Set<() => void>();
  #closed = false;

  constructor(options: AuditStreamOptions) {
    this.#o = { maxStreams: 32, pollMs: 1000, ...options };
  }

  /** Reserves a slot (throws RATE_LIMITED when full) and returns the writer for the response. */
  open(filter: Omit<AuditFilter, 'after' | 'limit'>, after: number, maxSeconds: number): (res: ServerResponse) => Promise<void> {
    if (this.#closed) throw new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, 'the server is shutting down');
    if (this.#live.size >= this.#o.maxStreams)
      throw new GatehouseError(ErrorCodes.RATE_LIMITED, `at most ${this.#o.maxStreams} audit streams at once; try again later`);
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    this.#live.add(stop);
    return async (res) => {
      let wake: (() => void) | undefined;
      const unsubscribe = this.#o.audit.onAppend(() => wake?.());
      const deadline = setTimeout(stop, maxSeconds * 1000);
      let gone = false;
      res.once('close', () => {
        gone = true;
        stop();
      });
      try {
        res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
        res.flushHeaders();
        let cursor = after;
        let done = false;
        void stopped.then(() => {
          done = true;
          wake?.();
        });
        while (!done && !gone) {
          const events = await this.#o.events.list({ ...filter, after: cursor, limit: PAGE });
          for (const event of events) {
            cursor = event.seq;
            if (!res.write(`${JSON.stringify(event)}\n`))
              await new Promise<void>((resolve) => {
                const go = () => (res.off('drain', go), res.off('close', go), resolve());
                res.once('drain', go);
                res.once('close', go);
              });
            if (gone) break;
          }
          if (events.length === PAGE || done || gone) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.#o.pollMs);
            wake = () => (clearTimeout(timer), resolve());
          });
          wake = undefined;
        }
      } finally {
        clearTimeout(deadline);
        unsubscribe();
        this.#live.delete(stop);
        if (!res.writableEnded) res.end();
      }
    };
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    this.#closed = true;
    for (const stop of this.#live) stop();
  }
}
