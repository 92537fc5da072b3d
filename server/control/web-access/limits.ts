/** Web Access limits (docs/web-access.md "Limits"); each has a server flag (cli-flags.ts). */
import type { ControlPlaneConfig } from '../config.ts';

export interface WebAccessLimits {
  /** --web-idle-timeout: no request and no statement running this long ends the web session. */
  idleTimeoutSeconds: number;
  /** --web-statement-timeout: a statement running longer is cancelled through the gateway. */
  statementTimeoutMs: number;
  /** --web-max-rows: rows per result sent to the browser; more through a cursor on demand. */
  maxRowsPerResult: number;
  /** --web-max-sessions: live web sessions per user. */
  maxSessionsPerUser: number;
}

export function webAccessLimits(
  config: Pick<ControlPlaneConfig, 'webIdleTimeoutSeconds' | 'webStatementTimeoutMs' | 'webMaxRowsPerResult' | 'webMaxSessionsPerUser'>,
): WebAccessLimits {
  return {
    idleTimeoutSeconds: config.webIdleTimeoutSeconds,
    statementTimeoutMs: config.webStatementTimeoutMs,
    maxRowsPerResult: config.webMaxRowsPerResult,
    maxSessionsPerUser: config.webMaxSessionsPerUser,
  };
}
