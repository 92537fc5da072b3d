/** What travels in OPEN frames (docs/architecture.md, "Tunnel"). */

/**
 * Client → control plane. `applicationName` and `clientUser` are the startup parameters as
 * PostgreSQL would use them: at most NAMEDATALEN − 1 = 63 bytes (protocol/startup.ts truncates).
 */
export type StreamOpenMeta =
  | {
      kind: 'pg';
      clientAddress: string;
      applicationName?: string;
      clientUser?: string;
      /** The OS user and process that connected to the local proxy, when the OS tells (issue 10 item 4). */
      clientOsUser?: string;
      clientPid?: number;
      clientProcess?: string;
    }
  | { kind: 'cancel' };

import { z } from 'zod';
import type { UpstreamTarget } from '../upstream/types.ts';

export type { UpstreamTarget };

/**
 * The target as it travels to the gateway: the password only sealed to the enrolled gateway's
 * key (`sealed-secret.ts`, context `targetPasswordContext(gatewayId, sessionId)`).
 */
export type SealedUpstreamTarget = Omit<UpstreamTarget, 'password'> & { passwordSealed: string };

/** Control plane → gateway. Carries the password sealed to the gateway's key: never sent toward a client. */
export interface GatewayStreamMeta {
  kind: 'pg' | 'cancel';
  sessionId: string;
  connectionId: string;
  clientAddress?: string;
  applicationName?: string;
  /** The user name the client sent (ignored for authentication, kept for the record). */
  clientUser?: string;
  /** As the client's local proxy saw them (self-reported by the session's owner). */
  clientOsUser?: string;
  clientPid?: number;
  clientProcess?: string;
  target: SealedUpstreamTarget;
  session: { expiresAt: string; userEmail: string; accountName: string; resourceName: string };
  recording: { redactBindParams: boolean };
  /**
   * Set on a control-plane service connection (credential rotation, health check, Check
   * connection; server/control/service-connection): no user session, and the gateway records
   * no statements of it (an ALTER ROLE … PASSWORD never reaches a session log).
   */
  service?: { purpose: ServicePurpose };
}

export type ServicePurpose = 'rotation' | 'health-check' | 'connection-check';

/** Any JSON object; each side validates the meta it receives. */
export type StreamMeta = Record<string, unknown>;

const MAX_OPEN_FIELD_LENGTH = 256;
const MAX_OPEN_META_BYTES = 4096;
const openField = z.string().max(MAX_OPEN_FIELD_LENGTH).optional();

/**
 * What a client may say about a stream it opens (`StreamOpenMeta`), as the control plane
 * accepts it: `kind`, and self-reported fields of at most 256 characters; others are dropped.
 */
const clientOpenMeta = z.object({
  kind: z.enum(['pg', 'cancel']),
  clientAddress: openField,
  applicationName: openField,
  clientUser: openField,
  clientOsUser: openField,
  clientPid: z.number().int().positive().optional(),
  clientProcess: openField,
});
export type ClientOpenMeta = z.infer<typeof clientOpenMeta>;

/** Parses the JSON payload of a client's OPEN frame (at most 4 KiB); undefined when it is not valid. */
export function parseClientOpenMeta(payload: Buffer): ClientOpenMeta | undefined {
  if (payload.length > MAX_OPEN_META_BYTES) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = clientOpenMeta.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
