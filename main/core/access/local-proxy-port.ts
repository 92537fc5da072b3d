import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';
import type { StreamOpenMeta } from '../../../proxy-core/src/tunnel/meta.ts';

/** What the session needs from proxy-core's LocalProxy (docs/architecture.md, "Client core"). */
export interface AccessProxy extends EventEmitter {
  listen(): Promise<number>;
  end(reason: 'expired' | 'revoked' | 'ended' | 'stopped'): unknown;
  close(): Promise<void> | void;
  stats(): { connections: number; statements: number; bytesIn: number; bytesOut: number };
  /** Extended in place: the later expiry and the certificate for new connections. */
  extend(expiresAt: Date, certPem: string): void;
}

export interface AccessProxyOptions {
  host: '127.0.0.1';
  port: number;
  database: string;
  openStream: (meta: StreamOpenMeta) => Duplex | Promise<Duplex>;
  tls: { keyPem: string; certPem: string; caPem: string; gatewayId: string };
  expiresAt: Date;
  /** Local password mode: clients prove this password to the local proxy (SCRAM). */
  localPassword?: string;
}

export type CreateAccessProxy = (opts: AccessProxyOptions) => AccessProxy;
