/** A test client for Web Access: JSON calls and terminal WebSockets that keep every body and message seen. */
import { WebSocket } from 'ws';
import { rawDataToBuffer } from '../../../../proxy-core/src/tunnel/raw-data.ts';
import { call, type JsonResponse } from '../../test/helpers.ts';

export class WebClient {
  /** Every HTTP body and WebSocket message this client saw (the password scan reads them). */
  readonly seen: string[] = [];
  constructor(readonly url: string) {}

  async api<T = any>(method: string, path: string, token: string, body?: unknown): Promise<JsonResponse<T>> {
    const res = await call<T>(this.url, method, path, { token, body });
    this.seen.push(res.text);
    return res;
  }

  async terminal(token: string, id: string): Promise<Terminal> {
    const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/api/v1/web-sessions/${id}/terminal`, ['gatehouse.terminal.v1', `bearer.${token}`]);
    const terminal = new Terminal(ws, this.seen);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await terminal.next((m) => m.type === 'tx');
    return terminal;
  }
}

export class Terminal {
  readonly messages: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<{ test: (m: any) => boolean; resolve: (m: any) => void }> = [];
  #runs = 0;

  constructor(
    readonly ws: WebSocket,
    seen: string[],
  ) {
    ws.on('message', (data) => {
      const text = rawDataToBuffer(data).toString('utf8');
      seen.push(text);
      const m = JSON.parse(text);
      this.messages.push(m);
      for (const w of [...this.#waiters]) {
        if (w.test(m)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  next(test: (m: any) => boolean, ms = 15_000): Promise<any> {
    const found = this.messages.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such terminal message; last: ${JSON.stringify(this.messages.slice(-5))}`)), ms);
      this.#waiters.push({
        test,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
      });
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Runs a script; resolves with that run's messages up to its `done`. */
  async run(sql: string): Promise<any[]> {
    const id = `run-${++this.#runs}`;
    const from = this.messages.length;
    this.send({ type: 'run', id, sql });
    await this.next((m) => m.type === 'done' && m.id === id, 30_000);
    return this.messages.slice(from).filter((m) => m.id === undefined || m.id === id);
  }
}
