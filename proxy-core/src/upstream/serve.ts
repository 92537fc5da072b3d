import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { MessageWalker } from '../protocol/message-walker.ts';
import { InjectingForwarder } from '../protocol/injecting-forwarder.ts';
import { createErrorResponse } from '../protocol/backend/error-response.ts';
import { createTerminate } from '../protocol/frontend/terminate.ts';
import { ADMIN_SHUTDOWN, PROTOCOL_VIOLATION } from '../protocol/sqlstate.ts';
import { connectUpstream, type ConnectUpstreamOptions, type UpstreamConnection } from './connect.ts';
import { readPacketOfKind } from '../protocol/read-packet.ts';
import type { BackendKey, ClientStartup, UpstreamTarget } from './types.ts';
import { UpstreamError } from './upstream-error.ts';
import { relayWrite } from '../write-path.ts';

const log = createLogger('upstream.serve');

const DEFAULT_STARTUP_TIMEOUT_MS = 10_000;
/** Terminate waits this long for a message boundary, then closes both sides anyway. */
const TERMINATE_GRACE_MS = 1_000;
/**
 * A client that vanished (tunnel lost) leaves the statement it sent running: the database is
 * asked to finish it and quit (Terminate), and its answer is still read and recorded for this
 * long, so the session log holds every statement that ran. Then both sides are closed anyway.
 */
const CLIENT_LOSS_DRAIN_MS = 5_000;

export interface ConnectInfo {
  startup: ClientStartup;
  backendKey: BackendKey | undefined;
  remoteAddress: string;
  remotePort: number;
  authMethod: string;
}

export type CloseReason =
  | { by: 'client' | 'server'; bytesIn: number; bytesOut: number }
  | { by: 'terminated' | 'error' | 'connect-failed'; sqlstate: string; message: string; bytesIn: number; bytesOut: number };

/** Observers of the spliced bytes. They get the very Buffers forwarded (no copies): read, never write. */
export interface RecorderHooks {
  /**
   * The walkers of the client's and the server's messages, when the observer walks them itself
   * (the recorder): the splice pushes every byte it forwards into these, before forwarding, and
   * uses them to find message boundaries, so each direction is walked once. Without them the
   * splice walks with walkers of its own that only follow the boundaries.
   */
  walkers?: { client: MessageWalker; server: MessageWalker };
  onClientData?(buf: Buffer): void;
  onServerData?(buf: Buffer): void;
  onConnect?(info: ConnectInfo): void;
  onClose?(reason: CloseReason): void;
}

export interface ServeClientStreamOptions {
  readStartup: true;
  connect?: ConnectUpstreamOptions;
  startupTimeoutMs?: number;
  onUpstreamReady?(conn: UpstreamConnection, startup: ClientStartup): void;
  recorderHooks?: RecorderHooks;
  /**
   * Asked before the connection is made and before each chunk of client data is forwarded:
   * a refusal ends the connection with a FATAL ErrorResponse and the data never reaches the
   * database (the gateway refuses to run what it cannot record).
   */
  admit?(): Refusal | undefined;
}

export interface Refusal {
  sqlstate: string;
  message: string;
  hint?: string;
}

export interface ClientStreamHandle {
  /** Resolves once the client got its startup reply; rejects with the error the client saw. */
  readonly ready: Promise<UpstreamConnection>;
  /** Resolves when both sides are closed. */
  readonly closed: Promise<CloseReason>;
  /** Inject a FATAL ErrorResponse at the next server message boundary, then close both sides (≤ 1 s). */
  terminate(sqlstate?: string, message?: string): Promise<CloseReason>;
  stats(): { bytesIn: number; bytesOut: number };
}

type State =
  | { kind: 'starting' }
  | { kind: 'open'; conn: UpstreamConnection }
  | { kind: 'terminating'; conn: UpstreamConnection; error: Buffer; reason: CloseReason }
  | { kind: 'closed'; reason: CloseReason };

/**
 * The gateway side of one client stream: read the StartupMessage, connect and authenticate
 * to the database, hand the client the startup reply, then splice bytes both ways.
 */
export function serveClientStream(client: Duplex, target: UpstreamTarget, opts: ServeClientStreamOptions): ClientStreamHandle {
  const hooks = opts.recorderHooks ?? {};
  let state: State = { kind: 'starting' };
  let bytesIn = 0;
  let bytesOut = 0;
  let server: Socket | undefined;
  const serverWalker = hooks.walkers?.server ?? new MessageWalker();
  const clientWalker = hooks.walkers?.client ?? new MessageWalker();
  const fromServer = new InjectingForwarder(serverWalker, forwardToClient);
  let clientEnded = false;
  let clientClosed = false;
  let serverClosed = false;
  let forceTimer: NodeJS.Timeout | undefined;
  /** The client is gone: server data is still recorded, no longer forwarded. */
  let draining = false;

  let resolveClosed!: (r: CloseReason) => void;
  const closed = new Promise<CloseReason>((r) => (resolveClosed = r));

  const call = <K extends Exclude<keyof RecorderHooks, 'walkers'>>(name: K, ...args: Parameters<NonNullable<RecorderHooks[K]>>) => {
    try {
      (hooks[name] as ((...a: unknown[]) => void) | undefined)?.(...args);
    } catch (err) {
      log.warn({ err, hook: name }, 'recorder hook threw');
    }
  };

  const ready = start();
  ready.catch(() => undefined);

  async function start(): Promise<UpstreamConnection> {
    client.on('error', onClientError);
    client.on('close', onClientClose);
    try {
      const { packet, rest } = await readPacketOfKind(client, 'startup', opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
      const startup: ClientStartup = { protocolVersion: packet.protocolVersion, parameters: packet.parameters, protocolOptions: packet.protocolOptions };
      const refused = opts.admit?.();
      if (refused) throw new UpstreamError(ErrorCodes.RECORDING_UNAVAILABLE, refused.message, { sqlstate: refused.sqlstate, hint: refused.hint });
      const conn = await connectUpstream(target, startup, opts.connect);
      if (state.kind !== 'starting') {
        conn.socket.destroy();
        throw new GatehouseError(ErrorCodes.TUNNEL_CLOSED, 'the client went away while connecting');
      }
      state = { kind: 'open', conn };
      server = conn.socket;
      bytesOut += conn.startupReply.length;
      call('onConnect', { startup, backendKey: conn.backendKey, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, authMethod: conn.authMethod });
      opts.onUpstreamReady?.(conn, startup);
      serverWalker.push(conn.startupReply);
      call('onServerData', conn.startupReply);
      client.write(conn.startupReply);
      splice(conn.socket, rest);
      return conn;
    } catch (err) {
      failBeforeReady(err);
      throw err;
    }
  }

  function failBeforeReady(err: unknown): void {
    if (state.kind === 'closed' || state.kind === 'terminating') return;
    const e = err instanceof UpstreamError ? err : undefined;
    const sqlstate = e?.sqlstate ?? (err instanceof GatehouseError && err.code === ErrorCodes.PROTOCOL ? PROTOCOL_VIOLATION : '08006');
    const message = err instanceof GatehouseError ? err.message : 'internal error in the gateway';
    if (!(err instanceof GatehouseError)) log.error({ err }, 'unexpected error before the session was ready');
    const reason: CloseReason = { by: 'connect-failed', sqlstate, message, bytesIn, bytesOut };
    state = { kind: 'closed', reason };
    if (!clientClosed && client.writable) {
      client.write(createErrorResponse({ severity: 'FATAL', code: sqlstate, message, detail: e?.detail, hint: e?.hint }));
      client.end();
    }
    armForceClose();
    finishIfClosed(reason);
  }

  function splice(socket: Socket, clientRest: Buffer): void {
    socket.on('data', onServerData);
    socket.on('end', onServerEnd);
    socket.on('close', onServerClose);
    socket.on('error', onServerError);
    socket.on('drain', () => client.resume());
    client.on('drain', () => socket.resume());
    client.on('data', onClientData);
    client.on('end', onClientEnd);
    if (clientRest.length) onClientData(clientRest);
    client.resume();
    socket.resume();
  }

  function onClientData(buf: Buffer): void {
    if (state.kind !== 'open' || !server) return;
    const refused = opts.admit?.();
    if (refused) {
      void terminate(refused.sqlstate, refused.message, refused.hint);
      return;
    }
    bytesIn += buf.length;
    try {
      clientWalker.push(buf);
    } catch (err) {
      // Like PostgreSQL: a malformed message ends this connection (and only it), with 08P01.
      log.info({ err: (err as Error).message }, 'client sent an invalid message; closing the connection');
      void terminate(PROTOCOL_VIOLATION, `invalid message from the client: ${(err as Error).message}`);
      return;
    }
    call('onClientData', buf);
    if (!relayWrite(server, buf)) client.pause();
  }

  function onServerData(buf: Buffer): void {
    if (state.kind !== 'open' && state.kind !== 'terminating') return;
    try {
      fromServer.push(buf);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'the database sent an invalid message; closing the connection');
      abort({ by: 'error', sqlstate: PROTOCOL_VIOLATION, message: `invalid message from the database: ${(err as Error).message}`, bytesIn, bytesOut });
    }
  }

  function forwardToClient(buf: Buffer): void {
    bytesOut += buf.length;
    call('onServerData', buf);
    if (draining || client.destroyed) return;
    if (!relayWrite(client, buf)) server?.pause();
  }

  /** The client vanished mid-connection: let the database finish what it was sent, record it, then close. */
  function drainAfterClientLoss(reason: CloseReason): void {
    setReason(reason);
    if (draining) return;
    if (state.kind !== 'open' || !server || serverClosed) {
      abort(reason);
      return;
    }
    draining = true;
    client.off('data', onClientData);
    client.destroy();
    server.resume();
    // A partial message stays partial (the database drops it at EOF); a whole one runs to its end.
    if (clientWalker.atBoundary) server.write(createTerminate());
    server.end();
    armForceClose(CLIENT_LOSS_DRAIN_MS);
    finishIfClosed();
  }

  function onClientEnd(): void {
    clientEnded = true;
    if (state.kind === 'open') {
      setReason({ by: 'client', bytesIn, bytesOut });
      server?.end();
    }
  }

  function onServerEnd(): void {
    if (state.kind === 'open') {
      setReason({ by: 'server', bytesIn, bytesOut });
      client.end();
    } else if (state.kind === 'terminating') {
      fromServer.runNow();
    }
  }

  function onClientError(err: Error): void {
    log.debug({ err: err.message }, 'client stream error');
    const reason: CloseReason = { by: 'error', sqlstate: '08006', message: `client stream error: ${err.message}`, bytesIn, bytesOut };
    if (state.kind === 'open') drainAfterClientLoss(reason);
    else abort(reason);
  }

  function onServerError(err: Error): void {
    log.info({ err: err.message }, 'database connection error');
    abort({ by: 'error', sqlstate: '08006', message: `database connection error: ${err.message}`, bytesIn, bytesOut });
  }

  function onClientClose(): void {
    clientClosed = true;
    if (state.kind === 'starting') {
      state = { kind: 'closed', reason: { by: 'client', bytesIn, bytesOut } };
    } else if (state.kind === 'open') {
      if (!clientEnded) drainAfterClientLoss({ by: 'client', bytesIn, bytesOut });
      else {
        setReason({ by: 'client', bytesIn, bytesOut });
        armForceClose();
      }
    }
    finishIfClosed();
  }

  function onServerClose(): void {
    serverClosed = true;
    if (state.kind === 'open') {
      setReason({ by: 'server', bytesIn, bytesOut });
      client.end();
      armForceClose();
    } else if (state.kind === 'terminating') {
      fromServer.runNow();
    }
    finishIfClosed();
  }

  let firstReason: CloseReason | undefined;
  function setReason(r: CloseReason): void {
    firstReason ??= r;
  }

  function abort(reason: CloseReason): void {
    setReason(reason);
    if (state.kind !== 'closed') state = { kind: 'closed', reason: firstReason! };
    client.destroy();
    server?.destroy();
    finishIfClosed();
  }

  function inject(): void {
    if (state.kind !== 'terminating') return;
    const { error, reason } = state;
    state = { kind: 'closed', reason };
    bytesOut += error.length;
    // the recorder sees the error too (when the server's bytes end at a boundary, as they do unless it vanished mid-message)
    if (serverWalker.atBoundary) serverWalker.push(error);
    call('onServerData', error);
    if (!clientClosed) {
      client.write(error);
      client.end();
    }
    if (server && !serverClosed) {
      if (clientWalker.atBoundary) server.write(createTerminate());
      server.end();
    }
    armForceClose();
    finishIfClosed();
  }

  function armForceClose(ms = TERMINATE_GRACE_MS): void {
    if (forceTimer) return;
    forceTimer = setTimeout(() => {
      client.destroy();
      server?.destroy();
      // Streams that were already closed emit nothing more: settle here.
      clientClosed = clientClosed || client.destroyed;
      serverClosed = serverClosed || !server || server.destroyed;
      finishIfClosed();
    }, ms);
    forceTimer.unref();
  }

  function finishIfClosed(fallback?: CloseReason): void {
    const serverDone = serverClosed || !server;
    if (!clientClosed || !serverDone) return;
    if (forceTimer) clearTimeout(forceTimer);
    const decided = state.kind === 'terminating' || state.kind === 'closed' ? state.reason : undefined;
    const reason =
      decided && (decided.by === 'terminated' || decided.by === 'connect-failed')
        ? decided
        : (firstReason ?? fallback ?? { by: 'client' as const, bytesIn, bytesOut });
    const final = { ...reason, bytesIn, bytesOut };
    state = { kind: 'closed', reason: final };
    call('onClose', final);
    resolveClosed(final);
  }

  function terminate(sqlstate: string = ADMIN_SHUTDOWN, message = 'terminating connection: the access session has ended', hint?: string): Promise<CloseReason> {
    const reason: CloseReason = { by: 'terminated', sqlstate, message, bytesIn, bytesOut };
    const error = createErrorResponse({ severity: 'FATAL', code: sqlstate, message, hint });
    if (state.kind === 'starting') {
      state = { kind: 'closed', reason };
      if (!clientClosed) {
        client.write(error);
        client.end();
      }
      armForceClose();
      finishIfClosed();
    } else if (state.kind === 'open') {
      state = { kind: 'terminating', conn: state.conn, error, reason };
      client.off('data', onClientData);
      fromServer.atNextBoundary(() => {
        inject();
        return 'stop';
      });
      armForceClose();
    }
    return closed;
  }

  return { ready, closed, terminate, stats: () => ({ bytesIn, bytesOut }) };
}
