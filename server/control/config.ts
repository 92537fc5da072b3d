/**
 * Control plane configuration: flags first, then environment, then defaults that run on
 * one machine. Parsing is the edge: everything after this trusts the values.
 */
import { resolve } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';

export interface ControlPlaneConfig {
  /** Where PGlite, `root.key` and other local state live. */
  dataDir: string;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** When set, the store is this PostgreSQL instead of PGlite in the data dir. */
  databaseUrl?: string;
  /** Base64 of 32 bytes (GATEHOUSE_ROOT_KEY); otherwise `<dataDir>/root.key` is used or created. */
  rootKeyBase64?: string;
  /**
   * The URL people and clients use to reach this server (`https://gatehouse.example.com`):
   * links the server hands out (invitations) are built from it, never from a request's Host
   * header. Unset: the listening address (the host name when listening on all interfaces).
   */
  publicUrl?: string;
  /** Serve `/metrics` to `Authorization: Bearer <this>`; unset: `/metrics` is off (404). */
  metricsToken?: string;
  /**
   * Where gateways reach THIS replica directly (several replicas on one `databaseUrl`); each
   * gateway links to every replica at its advertised URL. Defaults to http://<host>:<port>
   * (the machine's hostname when listening on every interface).
   */
  advertiseUrl?: string;
  /** How often a replica beats its heartbeat in the store; silent for 3 beats, it is pruned. */
  replicaHeartbeatMs: number;
  /** Longest session a user may ask for. */
  maxSessionSeconds: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  enrollmentTokenTtlSeconds: number;
  /** How often the expiry scheduler looks for sessions past `expires_at`. */
  expirySweepMs: number;
  /** Record Bind parameter values in session logs (off: they are logged as 'redacted'). */
  recordBindParams: boolean;
  /** SMTP for email MFA codes (`smtp://user:pass@host:port`, `smtps://…`); unset: no email codes. */
  smtpUrl?: string;
  /** The From address of mails the server sends. */
  smtpFrom: string;
  /** Honor X-Forwarded-For for this many trusted proxy hops in front of the server (0: ignore the header). */
  trustProxyHops: number;
  /** Failed sign-ins per email + source address within `lockoutMinutes` before a lockout. */
  loginMaxFailures: number;
  /** Failed sign-ins per email from any address within `lockoutMinutes` before a lockout. */
  loginMaxFailuresPerUser: number;
  /** Failed MFA codes per user within `lockoutMinutes` before a lockout. */
  mfaMaxFailures: number;
  /** The failure-counting window and the lockout length. */
  lockoutMinutes: number;
  /** How often a signed checkpoint of the audit chain head is emitted (and once at shutdown). */
  auditCheckpointSeconds: number;
  /** Delete session events this many days after their session is over (unset: keep). */
  retentionDays?: number;
  /** Export, then delete audit rows older than this many days (unset: keep). */
  auditRetentionDays?: number;
  /** Where audit rows go before retention deletes them; default `<dataDir>/audit-export`. */
  auditExportDir?: string;
  /** A built web console to serve (`GATEHOUSE_CONSOLE_DIR`); unset: the checkout's, built on demand. */
  consoleDir?: string;
  /** Web Access: a web session with no request and no statement running this long is ended. */
  webIdleTimeoutSeconds: number;
  /** Web Access: a statement running longer is cancelled (through the gateway). */
  webStatementTimeoutMs: number;
  /** Web Access: rows sent to the browser per result; more through a cursor on demand. */
  webMaxRowsPerResult: number;
  /** Web Access: live web sessions a user may hold at once. */
  webMaxSessionsPerUser: number;
}

export const DEFAULT_CONFIG: ControlPlaneConfig = {
  dataDir: './.gatehouse-data',
  host: '127.0.0.1',
  port: 8080,
  maxSessionSeconds: 24 * 3600,
  accessTokenTtlSeconds: 15 * 60,
  refreshTokenTtlSeconds: 30 * 86_400,
  enrollmentTokenTtlSeconds: 3600,
  expirySweepMs: 1000,
  replicaHeartbeatMs: 2000,
  recordBindParams: false,
  smtpFrom: 'Gatehouse <gatehouse@localhost>',
  trustProxyHops: 0,
  loginMaxFailures: 5,
  loginMaxFailuresPerUser: 20,
  mfaMaxFailures: 5,
  lockoutMinutes: 15,
  auditCheckpointSeconds: 300,
  webIdleTimeoutSeconds: 15 * 60,
  webStatementTimeoutMs: 60_000,
  webMaxRowsPerResult: 1000,
  webMaxSessionsPerUser: 3,
};

/** A full config from a partial one (programmatic use and tests). */
export function resolveConfig(partial: Partial<ControlPlaneConfig> = {}): ControlPlaneConfig {
  const config = { ...DEFAULT_CONFIG, ...stripUndefined(partial) };
  if (config.metricsToken !== undefined && config.metricsToken.length < MIN_METRICS_TOKEN_LENGTH) {
    throw new GatehouseError(ErrorCodes.CONFIG, `--metrics-token must be at least ${MIN_METRICS_TOKEN_LENGTH} characters`);
  }
  return { ...config, dataDir: resolve(config.dataDir), ...(config.publicUrl !== undefined && { publicUrl: normalizePublicUrl(config.publicUrl) }) };
}

const MIN_METRICS_TOKEN_LENGTH = 16;

/** An http(s) origin with an optional path prefix, without a trailing slash, query or fragment. */
export function normalizePublicUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatehouseError(ErrorCodes.CONFIG, `--public-url must be an absolute http(s) URL such as https://gatehouse.example.com (got "${text}")`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new GatehouseError(ErrorCodes.CONFIG, `--public-url must be an http(s) URL without credentials, query or fragment (got "${text}")`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Flags (`--data-dir`, `--host`, `--port`, `--public-url`, `--max-session`, `--metrics-token`) over env over defaults. */
export function configFromArgs(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): ControlPlaneConfig {
  const portText = flags.port ?? env.PORT;
  const maxText = flags['max-session'] ?? env.GATEHOUSE_MAX_SESSION_SECONDS;
  return resolveConfig({
    dataDir: flags['data-dir'] ?? env.GATEHOUSE_DATA_DIR,
    host: flags.host ?? env.GATEHOUSE_HOST,
    port: portText === undefined ? undefined : parseInteger(portText, 'port', 0, 65535),
    databaseUrl: flags['database-url'] ?? emptyToUndefined(env.DATABASE_URL),
    rootKeyBase64: emptyToUndefined(env.GATEHOUSE_ROOT_KEY),
    publicUrl: flags['public-url'] ?? emptyToUndefined(env.GATEHOUSE_PUBLIC_URL),
    metricsToken: flags['metrics-token'] ?? emptyToUndefined(env.GATEHOUSE_METRICS_TOKEN),
    advertiseUrl: parseUrl(flags['advertise-url'] ?? emptyToUndefined(env.GATEHOUSE_ADVERTISE_URL), 'advertise-url'),
    replicaHeartbeatMs: (() => {
      const text = flags['replica-heartbeat-ms'] ?? emptyToUndefined(env.GATEHOUSE_REPLICA_HEARTBEAT_MS);
      return text === undefined ? undefined : parseInteger(text, 'replica-heartbeat-ms', 100, 60_000);
    })(),
    maxSessionSeconds: maxText === undefined ? undefined : parseInteger(maxText, 'max-session', 1, 30 * 86_400),
    consoleDir: flags['console-dir'] ?? emptyToUndefined(env.GATEHOUSE_CONSOLE_DIR),
    recordBindParams: (flags['record-bind-params'] ?? env.GATEHOUSE_RECORD_BIND_PARAMS ?? 'false') === 'true',
    ...securityFromArgs(flags, env),
    ...retentionFromArgs(flags, env),
    ...webAccessFromArgs(flags, env),
  });
}

/** Parses `--name value` / `--name=value` / `--flag` (value 'true') into a map. */
export function parseFlags(argv: readonly string[]): { positionals: string[]; flags: Record<string, string> } {
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq !== -1) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      flags[arg.slice(2)] = argv[++i];
    } else {
      flags[arg.slice(2)] = 'true';
    }
  }
  return { positionals, flags };
}

/** SMTP, proxy trust and lockout flags (docs/api.md "Server configuration"). */
function securityFromArgs(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): Partial<ControlPlaneConfig> {
  const int = (flag: string, envName: string, min: number, max: number): number | undefined => {
    const text = flags[flag] ?? emptyToUndefined(env[envName]);
    return text === undefined ? undefined : parseInteger(text, flag, min, max);
  };
  const trust = flags['trust-proxy'] ?? emptyToUndefined(env.GATEHOUSE_TRUST_PROXY);
  return {
    smtpUrl: flags['smtp-url'] ?? emptyToUndefined(env.GATEHOUSE_SMTP_URL),
    smtpFrom: flags['smtp-from'] ?? emptyToUndefined(env.GATEHOUSE_SMTP_FROM),
    trustProxyHops: trust === undefined || trust === 'false' ? undefined : trust === 'true' ? 1 : parseInteger(trust, 'trust-proxy', 0, 10),
    loginMaxFailures: int('login-max-failures', 'GATEHOUSE_LOGIN_MAX_FAILURES', 1, 1000),
    loginMaxFailuresPerUser: int('login-max-failures-per-user', 'GATEHOUSE_LOGIN_MAX_FAILURES_PER_USER', 1, 10_000),
    mfaMaxFailures: int('mfa-max-failures', 'GATEHOUSE_MFA_MAX_FAILURES', 1, 1000),
    lockoutMinutes: int('lockout-minutes', 'GATEHOUSE_LOCKOUT_MINUTES', 1, 7 * 24 * 60),
    auditCheckpointSeconds: int('audit-checkpoint-seconds', 'GATEHOUSE_AUDIT_CHECKPOINT_SECONDS', 1, 86_400),
  };
}

/** `--retention-days`, `--audit-retention-days`, `--audit-export-dir` (README "Retention"). */
function retentionFromArgs(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): Partial<ControlPlaneConfig> {
  const days = (flag: string, envName: string): number | undefined => {
    const text = flags[flag] ?? emptyToUndefined(env[envName]);
    return text === undefined ? undefined : parseInteger(text, flag, 1, 100 * 365);
  };
  const exportDir = flags['audit-export-dir'] ?? emptyToUndefined(env.GATEHOUSE_AUDIT_EXPORT_DIR);
  return {
    retentionDays: days('retention-days', 'GATEHOUSE_RETENTION_DAYS'),
    auditRetentionDays: days('audit-retention-days', 'GATEHOUSE_AUDIT_RETENTION_DAYS'),
    auditExportDir: exportDir === undefined ? undefined : resolve(exportDir),
  };
}

/** `--web-idle-timeout`, `--web-statement-timeout`, `--web-max-rows`, `--web-max-sessions` (docs/web-access.md "Limits"). */
function webAccessFromArgs(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): Partial<ControlPlaneConfig> {
  const int = (flag: string, envName: string, min: number, max: number): number | undefined => {
    const text = flags[flag] ?? emptyToUndefined(env[envName]);
    return text === undefined ? undefined : parseInteger(text, flag, min, max);
  };
  return {
    webIdleTimeoutSeconds: int('web-idle-timeout', 'GATEHOUSE_WEB_IDLE_TIMEOUT_SECONDS', 10, 7 * 86_400),
    webStatementTimeoutMs: int('web-statement-timeout', 'GATEHOUSE_WEB_STATEMENT_TIMEOUT_MS', 100, 24 * 3_600_000),
    webMaxRowsPerResult: int('web-max-rows', 'GATEHOUSE_WEB_MAX_ROWS', 1, 100_000),
    webMaxSessionsPerUser: int('web-max-sessions', 'GATEHOUSE_WEB_MAX_SESSIONS', 1, 1000),
  };
}

function parseInteger(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new GatehouseError(ErrorCodes.CONFIG, `--${name} must be an integer between ${min} and ${max} (got "${text}")`);
  }
  return value;
}

function parseUrl(text: string | undefined, name: string): string | undefined {
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatehouseError(ErrorCodes.CONFIG, `--${name} must be an http(s) URL (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new GatehouseError(ErrorCodes.CONFIG, `--${name} must be an http(s) URL (got "${text}")`);
  return url.origin;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
