/**
 * The control plane as a PostgreSQL client, the way a local proxy is one (docs/web-access.md,
 * "How a web session reaches the database"): a session tunnel WebSocket to the relay of this
 * replica (`GET /api/v1/sessions/:id/tunnel`, the caller's bearer token), a Mux over it, and
 * per PostgreSQL connection a tunnel stream with end-to-end TLS to the gateway under the web
 * session's certificate. The relay, the gateway and the recorder see a session like any other.
 */
import type { TLSSocket } from 'node:tls';
import pg from 'pg';
import { WebSocket } from 'ws';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { createCancelRequest } from '../../../proxy-core/src/protocol/startup.ts';
import { startGatewayTls } from '../../../proxy-core/src/tls/session-tls.ts';
import { Mux, type ControlMessage } from '../../../proxy-core/src/tunnel/mux.ts';
import { tunnelClientOptions } from '../../../proxy-core/src/tunnel/ws-client-options.ts';

const log = createLogger('web-access.tunnel');

const OPEN_TIMEOUT_MS = 10_000;
const CANCEL_TIMEOUT_MS = 5_000;
/** Tunnel stream, end-to-end TLS and the gateway's login to the database, all within this. */
const CONNECT_TIMEOUT_MS = 15_000;
export const WEB_APPLICATION_NAME = 'Gatehouse Web Access';

export interface WebTunnelTls {
  keyPem: string;
  certPem: string;
  caPem: string;
  gatewayId: string;
}

export type TunnelEndReason = 'revoked' | 'ended' | 'expired' | 'lost';

export interface WebTunnelOptions {
  /** ws://… of this replica's relay (its own listening address). */
  baseUrl: string;
  sessionId: string;
  /** The `Authorization` header of the request that created the web session. */
  authorization: string;
  tls: WebTunnelTls;
  database: string;
  /** The browser's address, recorded in each connection's connect event. */
  clientAddress: string;
  /** The relay said the session is over, or the tunnel dropped. */
  onEnd(reason: TunnelEndReason): void;
}

/** Raw text for every type: cells are encoded by type OID (cells.ts), never by pg's parsers. */
const rawTypes = { getTypeParser: () => (value: string) => value };

export class WebTunnel {
  readonly #options: WebTunnelOptions;
  readonly #mux: Mux;
  #closed = false;

  private constructor(options: WebTunnelOptions, mux: Mux) {
    this.#options = options;
    this.#mux = mux;
    mux.on('control', (message: ControlMessage) => this.#onControl(message));
    mux.on('close', (err) => {
      if (this.#closed) return;
      log.info({ sessionId: options.sessionId, err: err.message }, 'web session tunnel closed');
      this.#closed = true;
      options.onEnd('lost');
    });
  }

  /** Opens the tunnel; rejects with the relay's refusal (session over, not the owner, …). */
  static async open(options: WebTunnelOptions): Promise<WebTunnel> {
    const ws = await openWebSocket(`${options.baseUrl}/api/v1/sessions/${encodeURIComponent(options.sessionId)}/tunnel`, options.authorization);
    const tunnel = new WebTunnel(options, new Mux(ws, { initiator: true }));
    ws.resume();
    return tunnel;
  }

  /** A connected node-postgres client over a new tunnel stream (statements recorded at the gateway). */
  async connect(extra: { statementTimeoutMs?: number } = {}): Promise<pg.Client> {
    if (this.#closed) throw new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'the web session is over');
    const client = new pg.Client({
      stream: () => this.#pgStream(),
      user: 'web',
      database: this.#options.database,
      application_name: WEB_APPLICATION_NAME,
      ssl: false,
      types: rawTypes,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      ...(extra.statementTimeoutMs !== undefined && {
        statement_timeout: extra.statementTimeoutMs,
      }),
    });
    client.on('error', (err) => log.info({ sessionId: this.#options.sessionId, err: err.message }, 'web session connection error'));
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw connectError(err);
    }
    return client;
  }

  /** A real CancelRequest through the gateway for the backend of `client` (PostgreSQL answers nothing). */
  async cancel(client: pg.Client): Promise<void> {
    const { processID, secretKey } = client as unknown as {
      processID: number | null;
      secretKey: number | null;
    };
    if (processID === null || secretKey === null || this.#closed) return;
    const key = Buffer.alloc(4);
    key.writeInt32BE(secretKey);
    const socket = startGatewayTls(this.#mux.openStream({ kind: 'cancel' }), this.#options.tls);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), CANCEL_TIMEOUT_MS);
      socket.once('secureConnect', () => socket.end(createCancelRequest(processID, key)));
      socket.on('error', (err: Error) => log.info({ err: err.message }, 'cancel request could not be forwarded'));
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.resume();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#mux.close();
  }

  #pgStream(): TLSSocket {
    const stream = this.#mux.openStream({
      kind: 'pg',
      clientAddress: this.#options.clientAddress,
      applicationName: WEB_APPLICATION_NAME,
      clientUser: 'web',
    });
    const socket = startGatewayTls(stream, this.#options.tls);
    stream.on('error', (err) => socket.destroy(err));
    stream.once('close', () => setImmediate(() => socket.destroy()));
    // node-postgres drives a net.Socket: connect() must only announce the end-to-end TLS being up.
    const asNet = socket as unknown as {
      connect: () => TLSSocket;
      setNoDelay: () => TLSSocket;
    };
    asNet.setNoDelay = () => socket;
    asNet.connect = () => {
      socket.once('secureConnect', () => socket.emit('connect'));
      return socket;
    };
    return socket;
  }

  #onControl(message: ControlMessage): void {
    if (message.type !== 'session-ended') return;
    const reason = message.reason === 'revoked' || message.reason === 'expired' ? message.reason : 'ended';
    this.#closed = true;
    this.#options.onEnd(reason);
  }
}

function connectError(err: unknown): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const pgError = err as { code?: string; message?: string };
  const message = pgError.message ?? 'unknown error';
  if (typeof pgError.code === 'string' && /^[0-9A-Z]{5}$/.test(pgError.code)) {
    return new GatehouseError(ErrorCodes.UPSTREAM_CONNECT, `the database refused the connection: ${message} (SQLSTATE ${pgError.code})`, { cause: err });
  }
  return new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, `could not reach the database through its gateway: ${message}`, { cause: err });
}

/** Resolves with the open WebSocket, paused; rejects with the server's error on a refused upgrade. */
function openWebSocket(url: string, authorization: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      ...tunnelClientOptions(url),
      headers: { authorization },
      handshakeTimeout: OPEN_TIMEOUT_MS,
    });
    let settled = false;
    const fail = (err: GatehouseError) => {
      if (settled) return;
      settled = true;
      ws.on('error', () => undefined);
      ws.terminate();
      reject(err);
    };
    ws.once('open', () => {
      ws.pause();
      settled = true;
      resolve(ws);
    });
    ws.on('error', (err) => fail(new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, `could not open the session tunnel: ${err.message}`, { cause: err })));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => fail(refusal(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.once('error', () => fail(refusal(res.statusCode ?? 0, '')));
    });
  });
}

function refusal(status: number, body: string): GatehouseError {
  try {
    const parsed = JSON.parse(body) as {
      error?: { code?: string; message?: string };
    };
    const code = Object.values(ErrorCodes).find((c) => c === parsed.error?.code);
    if (code && parsed.error?.message) return new GatehouseError(code, parsed.error.message);
  } catch {
    // not JSON: described by the status below
  }
  return new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, `the relay refused the session tunnel (HTTP ${status})`);
}
