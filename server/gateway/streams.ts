import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { ErrorCodes } from '../../proxy-core/src/errors.ts';
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
import { StreamQuota, type StreamLimits } from '../../proxy-core/src/tunnel/stream-quota.ts';
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

  handle(stream: MuxStream, rawMeta: GatewayStreamMeta): void {
    stream.on('error', (err) => log.debug({ err: err.message, stream: stream.id }, 'stream error'));
    const meta = validMeta(rawMeta);
    if (!meta) return stream.reset(ErrorCodes.PROTOCOL, 'invalid stream metadata');
    const expiresAt = Date.parse(meta.session.expiresAt);
    const refusal = this.sessions.refusal(meta.sessionId, expiresAt);
    if (refusal) return stream.reset(SESSION_END[refusal].code, SESSION_END[refusal].refusal);
    const admission = this.quota.admit(meta.sessionId, meta.session.userEmail.toLowerCase());
    if (!admission.ok) {
      log.info({ sessionId: meta.sessionId }, `refusing a stream: ${admission.message}`);
      return stream.reset(ErrorCodes.RATE_LIMITED, admission.message);
    }
    const { lease } = admission;
    stream.once('close', () => lease.release());
    let target: UpstreamTarget;
    try {
      target = this.targets.open(meta.target, meta.sessionId);
    } catch (err) {
      log.warn({ sessionId: meta.sessionId, err: (err as Error).message }, 'refusing a stream: its target password is not sealed to this gateway');
      return stream.reset(ErrorCodes.DECRYPT_FAILED, "the target password is not sealed to this gateway's key");
    }

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
        stream.reset(ErrorCodes.FORBIDDEN, err.message);
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

function validMeta(meta: GatewayStreamMeta): IncomingMeta | undefined {
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
