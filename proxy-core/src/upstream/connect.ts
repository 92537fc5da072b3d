import type { Socket } from 'node:net';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { BackendCode } from '../protocol/constants.ts';
import { parseBackendKeyData } from '../protocol/backend/backend-key-data.ts';
import { createStartupMessage } from '../protocol/startup.ts';
import { CLIENT_CANNOT_CONNECT, FEATURE_NOT_SUPPORTED, INTERNAL_ERROR, INVALID_AUTHORIZATION, PROTOCOL_VIOLATION } from '../protocol/sqlstate.ts';
import { authenticate, unexpected } from './authenticate.ts';
import { dialDatabase } from './dial.ts';
import { MessageReader } from './message-reader.ts';
import type { BackendKey, ClientStartup, UpstreamTarget } from './types.ts';
import { UpstreamError } from './upstream-error.ts';

const log = createLogger('upstream');

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectUpstreamOptions {
  /** Deadline for TCP + TLS + authentication + startup. Default 10 s. */
  connectTimeoutMs?: number;
  maxScramIterations?: number;
}

export interface UpstreamConnection {
  socket: Socket;
  remoteAddress: string;
  remotePort: number;
  backendKey: BackendKey | undefined;
  /** [NegotiateProtocolVersion] AuthenticationOk, ParameterStatus…, BackendKeyData, Notice…, ReadyForQuery. */
  startupReply: Buffer;
  authMethod: string;
}

/** Startup parameters the gateway sets itself or refuses. */
const OVERRIDDEN = new Set(['user', 'database']);
const FALSE_VALUES = new Set(['', '0', 'false', 'off', 'no']);

/**
 * Connects to the database as the account in `target` on behalf of a client whose
 * StartupMessage is `startup`, and returns the bytes to hand that client.
 * Throws `UpstreamError` on every failure.
 */
export async function connectUpstream(target: UpstreamTarget, startup: ClientStartup, opts: ConnectUpstreamOptions = {}): Promise<UpstreamConnection> {
  const where = `${target.host}:${target.port}`;
  const params = startupParameters(target, startup);
  const sockets: Socket[] = [];
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
      reject(
        new UpstreamError(ErrorCodes.TIMEOUT, `timed out after ${timeoutMs} ms connecting to the database server at ${where}`, {
          sqlstate: CLIENT_CANNOT_CONNECT,
          hint: 'Check that the database is up and reachable from the gateway (firewall, host, port).',
        }),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([handshake(target, startup, params, where, sockets, opts), deadline]);
  } catch (err) {
    for (const s of sockets) s.destroy();
    const e = toUpstreamError(err, where);
    log.info({ where, sqlstate: e.sqlstate, code: e.code }, 'upstream connection failed');
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

async function handshake(
  target: UpstreamTarget,
  startup: ClientStartup,
  params: Record<string, string>,
  where: string,
  sockets: Socket[],
  opts: ConnectUpstreamOptions,
): Promise<UpstreamConnection> {
  const dialed = await dialDatabase(target.host, target.port, target.ssl, { track: (s) => sockets.push(s) });
  const { socket } = dialed;
  const reader = new MessageReader(socket, where);
  socket.write(createStartupMessage(startup.protocolVersion, params, startup.protocolOptions));
  const auth = await authenticate({
    socket,
    reader,
    username: target.username,
    password: target.password,
    peerCertificate: dialed.peerCertificate,
    tls: target.ssl.enabled,
    tlsVerified: target.ssl.enabled && target.ssl.rejectUnauthorized,
    authMethods: target.authMethods,
    where,
    maxScramIterations: opts.maxScramIterations,
  });

  const parts: Buffer[] = [];
  if (auth.negotiate) parts.push(auth.negotiate.raw);
  parts.push(auth.ok.raw);
  let backendKey: BackendKey | undefined;
  for (;;) {
    const msg = await reader.next();
    switch (msg.code) {
      case BackendCode.ParameterStatus:
      case BackendCode.NoticeResponse:
        parts.push(msg.raw);
        continue;
      case BackendCode.BackendKeyData:
        backendKey = parseBackendKeyData(msg.payload);
        parts.push(msg.raw);
        continue;
      case BackendCode.ErrorResponse:
        throw UpstreamError.fromServer(msg.payload);
      case BackendCode.ReadyForQuery:
        parts.push(msg.raw);
        break;
      default:
        throw unexpected({ where }, msg, 'ParameterStatus, BackendKeyData or ReadyForQuery');
    }
    break;
  }
  if (reader.hasPartial) {
    // Never lose server bytes: hand the socket over with the partial message unread is not possible.
    throw new UpstreamError(ErrorCodes.PROTOCOL, `the database server at ${where} sent data before the client's first query`, {
      sqlstate: PROTOCOL_VIOLATION,
    });
  }
  parts.push(reader.detach());
  log.debug({ where, method: auth.method, pid: backendKey?.processId }, 'upstream ready');
  return {
    socket,
    remoteAddress: dialed.remoteAddress,
    remotePort: dialed.remotePort,
    backendKey,
    startupReply: Buffer.concat(parts),
    authMethod: auth.method,
  };
}

function startupParameters(target: UpstreamTarget, startup: ClientStartup): Record<string, string> {
  const replication = startup.parameters.replication;
  if (replication !== undefined && !FALSE_VALUES.has(replication.toLowerCase())) {
    throw new UpstreamError(ErrorCodes.UPSTREAM_CONNECT, 'replication connections are not supported through Gatehouse', {
      sqlstate: FEATURE_NOT_SUPPORTED,
      hint: 'Connect without the replication parameter.',
    });
  }
  const out: Record<string, string> = { user: target.username, database: target.database };
  for (const [k, v] of Object.entries(startup.parameters)) {
    if (!OVERRIDDEN.has(k) && k !== 'replication') out[k] = v;
  }
  return out;
}

function toUpstreamError(err: unknown, where: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof GatehouseError) {
    const auth = err.code === ErrorCodes.UPSTREAM_AUTH || err.code === ErrorCodes.UNSUPPORTED_AUTH;
    return new UpstreamError(err.code, err.message, {
      sqlstate: auth ? INVALID_AUTHORIZATION : err.code === ErrorCodes.PROTOCOL ? PROTOCOL_VIOLATION : CLIENT_CANNOT_CONNECT,
      cause: err,
    });
  }
  return new UpstreamError(ErrorCodes.INTERNAL, `internal error while connecting to the database server at ${where}`, {
    sqlstate: INTERNAL_ERROR,
    cause: err,
  });
}
