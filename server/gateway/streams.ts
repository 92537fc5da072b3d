import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ErrorCodes, type ErrorCode } from '../../proxy-core/src/errors.ts';
import { dialDirectStream } from '../../proxy-core/src/tunnel/direct-stream.ts';
import { SESSION_END } from '../../proxy-core/src/tunnel/session-end.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { createRecorder, type Recorder } from '../../proxy-core/src/recorder/index.ts';
import type { DisconnectReason } from '../../proxy-core/src/recorder/events.ts';
import { acceptSessionTls } from '../../proxy-core/src/tls/session-tls.ts';
import type { GatewayStreamMeta } from '../../proxy-core/src/tunnel/meta.ts';
import type { UpstreamTarget } from '../../proxy-core/src/upstream/types.ts';
import type { MuxStream } from '../../proxy-core/src/tunnel/stream.ts';
import { sendCancel, serveClientStream, type CloseReason } from '../../proxy-core/src/upstream/index.ts';
import { readPacketOfKind } from '../../proxy-core/src/protocol/read-packet.ts';
import { MessageWalker } from '../../proxy-core/src/protocol/message-walker.ts';
import { CancelKeys } from './cancel-keys.ts';
import type { EventLog } from './event-log.ts';
import type { GatewayIdentity } from './identity.ts';
import { TargetOpener } from './sealed-target.ts';
import { StreamQuota, type StreamLease, type StreamLimits } from '../../proxy-core/src/tunnel/stream-quota.ts';
import { SessionRegistry, type SessionEndReason } from './session-registry.ts';

const CANCEL_READ_TIMEOUT_MS = 5_000;

const log = createLogger('gateway.streams');

/** A stream that has not finished its end-to-end TLS handshake by then is reset (issue 10 item 3). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 5_000;

export interface StreamDispatcherOptions {
  /** Each session's and user's share of the link (stream-quota.ts). */
  limits?: Partial<StreamLimits>;
  handshakeTimeoutMs?: number;
}

/** The gateway's meta may carry the client's OS user name (passed through from the client's OPEN). */
type IncomingMeta = GatewayStreamMeta;

/** A stream that passed the checks, with its quota lease (released when the stream closes). */
interface Admitted {
  ok: true;
  meta: IncomingMeta;
  expiresAt: number;
  target: UpstreamTarget;
  lease: StreamLease;
}

/** The relay's request for a direct stream (link-set.ts resolves where to dial back). */
export interface DialRequest {
  url: string;
  meta: Record<string, unknown>;
  refuse(code: ErrorCode, message: string): void;
}

/** How long the relay may take to answer the dial-back (it waits for it, so this is a network failure). */
const DIAL_BACK_TIMEOUT_MS = 10_000;

/**
 * Serves each stream the control plane opens: terminates the end-to-end TLS (the client's
 * certificate must name the stream's session), then either serves a PG connection with the
 * real credentials and a recorder, or forwards a cancel request to the database.
 */
export class StreamDispatcher {
  readonly sessions = new SessionRegistry();
  private readonly cancelKeys = new CancelKeys();
  private readonly targets: TargetOpener;
  readonly quota: StreamQuota;
  private readonly handshakeTimeoutMs: number;

  constructor(
    private readonly identity: GatewayIdentity,
    private readonly eventLog: EventLog,
    options: StreamDispatcherOptions = {},
  ) {
    this.targets = new TargetOpener(identity);
    this.quota = new StreamQuota(options.limits);
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS;
  }

  /** A stream the control plane opened on a link: refused with an RST, or served. */
  handle(stream: MuxStream, rawMeta: GatewayStreamMeta): void {
    stream.on('error', (err) => log.debug({ err: err.message, stream: stream.id }, 'stream error'));
    const admitted = this.admit(rawMeta);
    if (!admitted.ok) return stream.reset(admitted.code, admitted.message);
    this.serve(stream, admitted, (code, message) => stream.reset(code, message));
  }

  /**
   * A direct stream (proxy-core/src/tunnel/direct-stream.ts): the relay asked over a link; a
   * refusal goes back over that link (`dial-refused`), else this gateway dials back `url` and
   * serves the socket it gets, with TLS on a real socket.
   */
  dial(request: DialRequest): void {
    const admitted = this.admit(request.meta);
    if (!admitted.ok) return request.refuse(admitted.code, admitted.message);
    dialDirectStream(request.url, { headers: {}, timeoutMs: DIAL_BACK_TIMEOUT_MS }).then(
      (socket) => {
        socket.on('error', (err) => log.debug({ err: err.message, sessionId: admitted.meta.sessionId }, 'direct stream error'));
        this.serve(socket, admitted, () => socket.destroy());
      },
      (err: Error) => {
        admitted.lease.release();
        log.warn({ sessionId: admitted.meta.sessionId, err: err.message }, 'could not dial back for a direct stream');
      },
    );
  }

  /** The checks before any byte of a stream is read: meta, session still on, quota, target sealed to us. */
  private admit(rawMeta: unknown): Admitted | { ok: false; code: ErrorCode; message: string } {
    const meta = validMeta(rawMeta);
    if (!meta) return { ok: false, code: ErrorCodes.PROTOCOL, message: 'invalid stream metadata' };
    const expiresAt = Date.parse(meta.session.expiresAt);
    const refusal = this.sessions.refusal(meta.sessionId, expiresAt);
    if (refusal) return { ok: false, code: SESSION_END[refusal].code, message: SESSION_END[refusal].refusal };
    const admission = this.quota.admit(meta.sessionId, meta.session.userEmail.toLowerCase());
    if (!admission.ok) {
      log.info({ sessionId: meta.sessionId }, `refusing a stream: ${admission.message}`);
      return { ok: false, code: ErrorCodes.RATE_LIMITED, message: admission.message };
    }
    let target: UpstreamTarget;
    try {
      target = this.targets.open(meta.target, meta.sessionId);
    } catch (err) {
      admission.lease.release();
      log.warn({ sessionId: meta.sessionId, err: (err as Error).message }, 'refusing a stream: its target password is not sealed to this gateway');
      return { ok: false, code: ErrorCodes.DECRYPT_FAILED, message: "the target password is not sealed to this gateway's key" };
    }
    return { ok: true, meta, expiresAt, target, lease: admission.lease };
  }

  /** End-to-end TLS with the client (its certificate must name the session), then PG or a cancel. */
  private serve(stream: Duplex, admitted: Admitted, refuse: (code: ErrorCode, message: string) => void): void {
    const { meta, expiresAt, target, lease } = admitted;
    stream.once('close', () => lease.release());
    const tlsIdentity = { keyPem: this.identity.keyPem, certPem: this.identity.certPem, caPem: this.identity.caPem };
    acceptSessionTls(stream, { ...tlsIdentity, expectedSessionId: meta.sessionId, handshakeTimeoutMs: this.handshakeTimeoutMs }).then(
      ({ socket }) => {
        lease.established();
        socket.on('error', (err: Error) => log.info({ sessionId: meta.sessionId, err: err.message }, 'end-to-end TLS error'));
        socket.once('close', () => {
          if (!stream.destroyed) stream.end();
        });
        if (meta.kind === 'cancel') void this.serveCancel(socket, meta);
        else this.servePg(socket, meta, target, expiresAt);
      },
      (err: Error) => {
        log.warn({ sessionId: meta.sessionId, err: err.message }, 'refusing a stream: end-to-end TLS with the client failed');
        refuse(ErrorCodes.FORBIDDEN, err.message);
      },
    );
  }

  /** Ends a session: new streams are refused and open connections get 57P01. */
  endSession(sessionId: string, reason: SessionEndReason): Promise<void> {
    return this.sessions.end(sessionId, reason);
  }

  /** A session's later expiry (extended in place): its open connections carry on until then. */
  extendSession(sessionId: string, expiresAt: number): void {
    this.sessions.extend(sessionId, expiresAt);
  }

  close(): Promise<void> {
    return this.sessions.closeAll();
  }

  private servePg(tlsSocket: TLSSocket, meta: IncomingMeta, target: UpstreamTarget, expiresAt: number): void {
    const { sessionId } = meta;
    const connectionId = meta.connectionId || randomUUID();
    const emit = this.eventLog.append.bind(this.eventLog);
    // A control-plane service connection (rotation, health check) is not a user's: nothing of it is recorded.
    const service = meta.service?.purpose;
    const recorder =
      service === undefined
        ? createRecorder({ sessionId, connectionId, redactBindParams: meta.recording.redactBindParams, emit })
        : unrecorded(sessionId, service);
    let cancelKey: string | undefined;
    let endedBy: SessionEndReason | undefined;
    let refusedUnrecorded = false;
    const handle = serveClientStream(tlsSocket, target, {
      readStartup: true,
      // Fail closed: nothing reaches the database while its event could not be recorded.
      admit: () => {
        const refusal = this.eventLog.refusal();
        if (refusal) {
          refusedUnrecorded = true;
          log.warn({ sessionId, connectionId, sqlstate: refusal.sqlstate }, 'refused a connection or statement: recording is unavailable');
        }
        return refusal;
      },
      recorderHooks: {
        // the splice walks each direction once, with the recorder's walkers
        walkers: recorder.walkers,
        onConnect: (info) => {
          if (info.backendKey) {
            cancelKey = this.cancelKeys.set(info.backendKey.processId, info.backendKey.secretKey, {
              sessionId,
              address: { host: info.remoteAddress, port: info.remotePort, verifyHost: meta.target.host },
              ssl: meta.target.ssl,
            });
          }
          recorder.onConnect({
            applicationName: info.startup.parameters.application_name ?? meta.applicationName,
            clientAddress: meta.clientAddress,
            clientUser: meta.clientUser,
            clientOsUser: meta.clientOsUser,
            clientPid: meta.clientPid,
            clientProcess: meta.clientProcess,
            backendPid: info.backendKey?.processId,
          });
        },
        onClose: (reason) => {
          if (cancelKey) this.cancelKeys.delete(cancelKey);
          if (service !== undefined) return;
          if (reason.by === 'connect-failed') {
            // Refused because events cannot be written: there is nothing to record it into.
            if (refusedUnrecorded) return;
            emit({ type: 'connect-failed', sessionId, connectionId, at: new Date().toISOString(), sqlstate: reason.sqlstate, message: reason.message });
            return;
          }
          recorder.onClose(refusedUnrecorded ? 'error' : disconnectReason(reason, endedBy), { bytesIn: reason.bytesIn, bytesOut: reason.bytesOut });
        },
      },
    });
    const terminable = {
      terminate: (sqlstate?: string, message?: string): Promise<CloseReason> => {
        endedBy ??= this.sessions.refusal(sessionId, expiresAt) ?? 'ended';
        return handle.terminate(sqlstate, message);
      },
    };
    this.sessions.add(sessionId, expiresAt, terminable, handle.closed);
  }

  private async serveCancel(tlsSocket: TLSSocket, meta: IncomingMeta): Promise<void> {
    try {
      const { packet: request, raw } = await readPacketOfKind(tlsSocket, 'cancel', CANCEL_READ_TIMEOUT_MS);
      const route = this.cancelKeys.get(request.processId, request.secretKey);
      if (!route || route.sessionId !== meta.sessionId) {
        log.info({ sessionId: meta.sessionId }, 'cancel request for an unknown backend ignored');
      } else {
        await sendCancel(route.address, route.ssl, raw);
        log.info({ sessionId: meta.sessionId, pid: request.processId }, 'cancel request forwarded to the database');
      }
    } catch (err) {
      log.info({ sessionId: meta.sessionId, err: (err as Error).message }, 'cancel request failed');
    } finally {
      tlsSocket.end();
    }
  }
}

/** The recorder of a service connection: logs that it connected and closed, records nothing. */
function unrecorded(sessionId: string, purpose: string): Recorder {
  return {
    onClientData: () => undefined,
    onServerData: () => undefined,
    // Plain walkers: the splice still finds message boundaries (to inject), nothing is captured.
    walkers: { client: new MessageWalker(), server: new MessageWalker() },
    onConnect: () => log.info({ serviceConnection: sessionId, purpose }, 'control plane service connection opened (not recorded)'),
    onClose: () => log.debug({ serviceConnection: sessionId, purpose }, 'control plane service connection closed'),
  };
}

function disconnectReason(reason: CloseReason, endedBy: SessionEndReason | undefined): DisconnectReason {
  if (reason.by === 'terminated') return endedBy === 'expired' ? 'expired' : endedBy === 'revoked' ? 'revoked' : 'client';
  if (reason.by === 'client' || reason.by === 'server') return reason.by;
  return 'error';
}

const SERVICE_PURPOSES = new Set<unknown>(['rotation', 'health-check', 'connection-check']);

function validMeta(meta: unknown): IncomingMeta | undefined {
  const m = meta as Partial<IncomingMeta> | undefined;
  if (!m || (m.kind !== 'pg' && m.kind !== 'cancel') || typeof m.sessionId !== 'string' || m.sessionId.length === 0) return undefined;
  if (!m.target || typeof m.target.host !== 'string' || typeof m.target.port !== 'number' || !m.target.ssl || typeof m.target.passwordSealed !== 'string')
    return undefined;
  if (!m.session || typeof m.session.expiresAt !== 'string' || Number.isNaN(Date.parse(m.session.expiresAt)) || typeof m.session.userEmail !== 'string')
    return undefined;
  if (!m.recording) return undefined;
  if (m.service !== undefined && !SERVICE_PURPOSES.has(m.service?.purpose)) return undefined;
  return m as IncomingMeta;
}
