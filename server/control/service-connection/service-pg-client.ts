/**
 * The PostgreSQL client end of a service connection: StartupMessage and simple queries over
 * the end-to-end TLS socket to the gateway. The gateway authenticates to the database with
 * the sealed credentials, so this side never sees an authentication request: it gets
 * AuthenticationOk … ReadyForQuery, or the FATAL ErrorResponse the login ended with.
 * @see https://www.postgresql.org/docs/current/protocol-flow.html
 */
import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { parseDataRow } from '../../../proxy-core/src/protocol/backend/data-row.ts';
import { parseErrorFields } from '../../../proxy-core/src/protocol/backend/error-response.ts';
import { BackendCode, PROTOCOL_3_0 } from '../../../proxy-core/src/protocol/constants.ts';
import { MessageFramer, type Message } from '../../../proxy-core/src/protocol/framing.ts';
import { createQuery } from '../../../proxy-core/src/protocol/frontend/query.ts';
import { createTerminate } from '../../../proxy-core/src/protocol/frontend/terminate.ts';
import { parseParameterStatus } from '../../../proxy-core/src/protocol/backend/parameter-status.ts';
import { createStartupMessage } from '../../../proxy-core/src/protocol/startup.ts';
import { failureFromServer, failureFromTransport } from './credential-failure.ts';

export interface QueryResult {
  rows: (string | null)[][];
  tag: string | undefined;
}

/** Simple-protocol client; one query at a time. */
export class ServicePgClient {
  private readonly framer = new MessageFramer();
  private readonly queue: Message[] = [];
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;
  readonly parameters: Record<string, string> = {};

  constructor(
    private readonly socket: Duplex,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.queue.push(...this.framer.push(chunk));
      } catch (err) {
        this.ended = err as Error;
        socket.destroy();
      }
      this.wake();
    });
    const end = (err?: Error) => {
      this.ended ??= err ?? new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'the gateway closed the service connection');
      this.wake();
    };
    socket.on('error', end);
    socket.on('end', () => end());
    socket.on('close', () => end());
  }

  /** Sends the StartupMessage; resolves at ReadyForQuery, throws CredentialFailure on the login's error. */
  async startup(params: { user: string; database: string; application_name: string }): Promise<void> {
    this.socket.write(createStartupMessage(PROTOCOL_3_0, params));
    for (;;) {
      const m = await this.next();
      if (m.code === BackendCode.ErrorResponse) throw this.serverError(m);
      if (m.code === BackendCode.ParameterStatus) {
        const p = parseParameterStatus(m.payload);
        this.parameters[p.name] = p.value;
      }
      if (m.code === BackendCode.ReadyForQuery) return;
    }
  }

  /** One simple query; throws CredentialFailure with the database's SQLSTATE on an error. */
  async query(sql: string): Promise<QueryResult> {
    this.socket.write(createQuery(sql));
    const rows: (string | null)[][] = [];
    let tag: string | undefined;
    let error: ReturnType<ServicePgClient['serverError']> | undefined;
    for (;;) {
      const m = await this.next();
      if (m.code === BackendCode.DataRow) rows.push(parseDataRow(m.payload));
      else if (m.code === BackendCode.CommandComplete) tag = m.payload.toString('utf8', 0, m.payload.length - 1);
      else if (m.code === BackendCode.ErrorResponse) error = this.serverError(m);
      else if (m.code === BackendCode.ReadyForQuery) {
        if (error) throw error;
        return { rows, tag };
      }
    }
  }

  /** Terminate, then close the socket. */
  close(): void {
    if (!this.socket.destroyed && this.ended === undefined) this.socket.end(createTerminate());
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private serverError(m: Message) {
    const fields = parseErrorFields(m.payload);
    return failureFromServer(fields.code || 'XX000', fields.message);
  }

  private async next(): Promise<Message> {
    const deadline = Date.now() + this.timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) throw failureFromTransport(this.ended);
      const left = deadline - Date.now();
      if (left <= 0) throw failureFromTransport(new GatehouseError(ErrorCodes.TIMEOUT, `no answer through the gateway within ${this.timeoutMs} ms`));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.queue.shift()!;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
