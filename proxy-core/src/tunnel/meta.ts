/** What travels in OPEN frames (docs/architecture.md, "Tunnel"). */

/**
 * Client → control plane. `applicationName` and `clientUser` are the startup parameters as
 * PostgreSQL would use them: at most NAMEDATALEN − 1 = 63 bytes (protocol/startup.ts truncates).
 */
export type StreamOpenMeta =
  | { kind: 'pg'; clientAddress: string; applicationName?: string; clientUser?: string }
  | { kind: 'cancel' };

import type { UpstreamTarget } from '../upstream/types.ts';

export type { UpstreamTarget };

/** Control plane → gateway. Carries the password: never sent toward a client. */
export interface GatewayStreamMeta {
  kind: 'pg' | 'cancel';
  sessionId: string;
  connectionId: string;
  clientAddress?: string;
  applicationName?: string;
  /** The user name the client sent (ignored for authentication, kept for the record). */
  clientUser?: string;
  target: UpstreamTarget;
  session: { expiresAt: string; userEmail: string; accountName: string; resourceName: string };
  recording: { redactBindParams: boolean };
}

/** Any JSON object; each side validates the meta it receives. */
export type StreamMeta = Record<string, unknown>;
