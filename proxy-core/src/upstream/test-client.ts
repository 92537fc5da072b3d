/**
 * Test helper: a tiny PostgreSQL client speaking the raw protocol over any Duplex, built on
 * our codecs, so tests see exactly the bytes a real client would.
 */
import type { Duplex } from 'node:stream';
import { MessageFramer, type Message } from '../protocol/framing.ts';
import { BackendCode, PROTOCOL_3_0 } from '../protocol/constants.ts';
import { createStartupMessage } from '../protocol/startup.ts';
import { createQuery } from '../protocol/frontend/query.ts';
import { parseDataRow } from '../protocol/backend/data-row.ts';
import { parseErrorFields, type ErrorFields } from '../protocol/backend/error-response.ts';
import { parseBackendKeyData, type BackendKey } from '../protocol/backend/backend-key-data.ts';
import { parseParameterStatus } from '../protocol/backend/parameter-status.ts';

export class RawPgClient {
  readonly messages: Message[] = [];
  private readonly framer = new MessageFramer();
  private waiters: (() => void)[] = [];
  ended = false;
  backendKey: BackendKey | undefined;
  parameters: Record<string, string> = {};

  constructor(readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.messages.push(...this.framer.push(chunk));
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('close', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('error', () => undefined);
  }

  /** Next message, or undefined once the stream ended. */
  async next(timeoutMs = 5000): Promise<Message | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0 && !this.ended) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.messages.shift();
  }

  /** Sends a StartupMessage; resolves with the messages up to ReadyForQuery or an ErrorResponse. */
  async startup(
    params: Record<string, string>,
    version = PROTOCOL_3_0,
    options: Record<string, string> = {},
  ): Promise<{ messages: Message[]; error?: ErrorFields }> {
    this.stream.write(createStartupMessage(version, params, options));
    const messages: Message[] = [];
    for (;;) {
      const m = await this.next();
      if (!m) return { messages };
      messages.push(m);
      if (m.code === BackendCode.BackendKeyData) this.backendKey = parseBackendKeyData(m.payload);
      if (m.code === BackendCode.ParameterStatus) {
        const p = parseParameterStatus(m.payload);
        this.parameters[p.name] = p.value;
      }
      if (m.code === BackendCode.ErrorResponse) return { messages, error: parseErrorFields(m.payload) };
      if (m.code === BackendCode.ReadyForQuery) return { messages };
    }
  }

  sendQuery(sql: string): void {
    this.stream.write(createQuery(sql));
  }

  /** Simple query; text rows of the last result, or the error. */
  async query(sql: string): Promise<{ rows: (string | null)[][]; error?: ErrorFields; tags: string[] }> {
    this.sendQuery(sql);
    return this.readResult();
  }

  async readResult(timeoutMs = 5000): Promise<{ rows: (string | null)[][]; error?: ErrorFields; tags: string[] }> {
    const rows: (string | null)[][] = [];
    const tags: string[] = [];
    let error: ErrorFields | undefined;
    for (;;) {
      const m = await this.next(timeoutMs);
      if (!m) return { rows, error, tags };
      if (m.code === BackendCode.DataRow) rows.push(parseDataRow(m.payload));
      if (m.code === BackendCode.CommandComplete) tags.push(m.payload.toString('utf8', 0, m.payload.length - 1));
      if (m.code === BackendCode.ErrorResponse) error = parseErrorFields(m.payload);
      if (m.code === BackendCode.ReadyForQuery) return { rows, error, tags };
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
