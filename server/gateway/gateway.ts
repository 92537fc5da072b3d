import { EventEmitter } from 'node:events';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { ControlMessage as RawControlMessage } from '../../proxy-core/src/tunnel/mux.ts';
import { parseControlMessage } from '../../proxy-core/src/tunnel/control-messages.ts';
import { enrollGateway } from './enroll.ts';
import { EventLog, type EventLogOptions } from './event-log.ts';
import { ensureDataDir, loadIdentity, type GatewayIdentity } from './identity.ts';
import type { GatewayLinkOptions, LinkState } from './link.ts';
import { LinkSet, type LinkSnapshot, type ReplicaInfo } from './link-set.ts';
import { StreamDispatcher, type StreamDispatcherOptions } from './streams.ts';

const log = createLogger('gateway');

export interface GatewayOptions {
  /** The control plane, `http(s)://host[:port]`. */
  domain: string;
  dataDir: string;
  /** One-time enrollment token, used only when the data dir holds no identity yet. */
  token?: string;
  eventLog?: EventLogOptions;
  link?: Pick<GatewayLinkOptions, 'heartbeatMs' | 'maxBackoffMs' | 'baseBackoffMs'>;
  /** Per-session and per-user stream limits and the TLS handshake deadline (issue 10 item 3). */
  streams?: StreamDispatcherOptions;
}

export interface GatewayEvents {
  connected: [];
  disconnected: [];
}

/**
 * The gateway process: enrolled identity, durable event log, outbound link, and the
 * dispatcher that serves the streams the control plane opens.
 */
export class Gateway extends EventEmitter<GatewayEvents> {
  private identityValue: GatewayIdentity | undefined;
  private eventLogValue: EventLog | undefined;
  private link: LinkSet | undefined;
  private dispatcher: StreamDispatcher | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: GatewayOptions) {
    super();
  }

  get connected(): boolean {
    return this.link?.connected ?? false;
  }

  get linkState(): LinkState {
    return this.link?.state ?? { state: 'idle' };
  }

  /** Every link (seed and one per other control plane replica), for the health endpoint. */
  get links(): LinkSnapshot[] {
    return this.link?.snapshot() ?? [];
  }

  /** The live control plane replicas, as the last one we heard from listed them. */
  get replicas(): ReplicaInfo[] {
    return this.link?.knownReplicas() ?? [];
  }

  get gatewayId(): string | undefined {
    return this.identityValue?.gatewayId;
  }

  get eventLog(): EventLog | undefined {
    return this.eventLogValue;
  }

  get connectionCount(): number {
    return this.dispatcher?.sessions.connectionCount ?? 0;
  }

  /** Enrolls if needed, opens the event log and starts dialing. Resolves before the link is up. */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  /** Resolves once linked to the control plane (or rejects after `timeoutMs`). */
  waitConnected(timeoutMs = 30_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new GatehouseError(ErrorCodes.TIMEOUT, `the gateway did not link to ${this.opts.domain} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /** Ends every connection, closes the link and the event log. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doStart(): Promise<void> {
    const { dataDir, domain, token } = this.opts;
    await ensureDataDir(dataDir);
    let identity = await loadIdentity(dataDir);
    if (!identity) {
      if (!token) {
        throw new GatehouseError(
          ErrorCodes.CONFIG,
          `this gateway is not enrolled (no identity in ${dataDir}); run "gatehouse-gateway enroll --domain ${domain} --token <token>" or pass --token`,
        );
      }
      identity = await enrollGateway({ domain, token, dataDir });
    } else if (token) {
      log.info({ gatewayId: identity.gatewayId }, 'already enrolled; ignoring the enrollment token');
    }
    this.identityValue = identity;
    const eventLog = await EventLog.open(dataDir, this.opts.eventLog);
    this.eventLogValue = eventLog;
    const dispatcher = new StreamDispatcher(identity, eventLog, this.opts.streams);
    this.dispatcher = dispatcher;
    const link = new LinkSet({ domain, identity, ...this.opts.link });
    this.link = link;

    link.on('stream', (stream, meta) => dispatcher.handle(stream, meta));
    link.on('dial', (request) => dispatcher.dial(request));
    link.on('control', (message) => this.onControl(message));
    link.on('connected', () => {
      // A new primary link: everything not yet acknowledged goes again (stored by seq, once).
      eventLog.setSender((events) => link.sendControl({ type: 'events', events }));
      this.emit('connected');
    });
    link.on('disconnected', () => {
      eventLog.setSender(undefined);
      this.emit('disconnected');
    });
    link.start();
    log.info({ gatewayId: identity.gatewayId, domain, dataDir }, 'gateway started');
  }

  private onControl(raw: RawControlMessage): void {
    const parsed = parseControlMessage(raw);
    if (!parsed.ok) {
      if (parsed.problem === 'malformed') log.warn({ type: parsed.type, error: parsed.error }, 'malformed control message ignored');
      else log.debug({ type: parsed.type }, 'unknown control message ignored');
      return;
    }
    const message = parsed.message;
    if (message.type === 'ack') {
      this.eventLogValue?.ack(message.seq);
    } else if (message.type === 'session-ended' && message.sessionId !== undefined) {
      void this.dispatcher?.endSession(message.sessionId, message.reason);
    } else if (message.type === 'session-extended' && message.sessionId !== undefined) {
      this.dispatcher?.extendSession(message.sessionId, Date.parse(message.expiresAt));
    } else {
      log.debug({ type: message.type }, 'control message not for a gateway ignored');
    }
  }

  private async doClose(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.dispatcher?.close();
    // Give the last events (disconnects) a moment to go out and be acked.
    const eventLog = this.eventLogValue;
    if (eventLog && this.connected) {
      const deadline = Date.now() + 1000;
      while (eventLog.stats.unacked > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    await this.link?.close();
    await eventLog?.close();
    log.info({ gatewayId: this.gatewayId }, 'gateway stopped');
  }
}

export function createGateway(opts: GatewayOptions): Gateway {
  return new Gateway(opts);
}
