/**
 * The `gatehouse-server` command line: each subcommand's flags as data, from which both the
 * parser (unknown flags are refused, not ignored) and the `--help` text are made.
 */

export interface FlagSpec {
  name: string;
  /** `string` takes a value; `boolean` takes none; `optional` takes one when given (else 'true'). */
  kind: 'string' | 'boolean' | 'optional';
  /** What the value looks like in the help (`DIR`, `URL`, ...). */
  value?: string;
  env?: string;
  default?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  synopsis: string;
  description: string;
  flags: readonly FlagSpec[];
  /** Environment variables read with no flag of their own. */
  envOnly?: readonly { env: string; help: string }[];
}

const DATA_DIR: FlagSpec = {
  name: 'data-dir',
  kind: 'string',
  value: 'DIR',
  env: 'GATEHOUSE_DATA_DIR',
  default: './.gatehouse-data',
  help: 'embedded store (PGlite in pgdata/) and root.key',
};
const DATABASE_URL: FlagSpec = {
  name: 'database-url',
  kind: 'string',
  value: 'URL',
  env: 'DATABASE_URL',
  help: 'use this PostgreSQL instead of the embedded store (same schema and migrations)',
};
const ROOT_KEY_ENV = { env: 'GATEHOUSE_ROOT_KEY', help: 'base64 32-byte key that seals secrets at rest (default: root.key, 0600, in the data dir)' };
const LOG_LEVEL_ENV = { env: 'GATEHOUSE_LOG_LEVEL', help: 'pino level (default info); logs go to stderr' };

export const SERVER_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    synopsis: 'gatehouse-server start [--data-dir DIR] [--host HOST] [--port PORT] [--public-url URL] [options]',
    description:
      'Runs the control plane (API, web console, relay) until Ctrl+C or SIGTERM. With the embedded\nstore the data dir is locked while it runs: bootstrap and audit verify refuse it meanwhile.',
    flags: [
      DATA_DIR,
      { name: 'host', kind: 'string', value: 'HOST', env: 'GATEHOUSE_HOST', default: '127.0.0.1', help: 'listen address' },
      { name: 'port', kind: 'string', value: 'PORT', env: 'PORT', default: '8080', help: 'listen port (0: any free port)' },
      {
        name: 'public-url',
        kind: 'string',
        value: 'URL',
        env: 'GATEHOUSE_PUBLIC_URL',
        default: 'the listening address',
        help: 'the URL clients use to reach this server',
      },
      DATABASE_URL,
      {
        name: 'max-session',
        kind: 'string',
        value: 'SECONDS',
        env: 'GATEHOUSE_MAX_SESSION_SECONDS',
        default: '86400',
        help: 'longest session anyone may ask for',
      },
      {
        name: 'record-bind-params',
        kind: 'boolean',
        env: 'GATEHOUSE_RECORD_BIND_PARAMS=true',
        default: 'off',
        help: 'keep Bind parameter values in session logs (else recorded as redacted)',
      },
      {
        name: 'health-check-minutes',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_HEALTH_CHECK_MINUTES',
        default: '60',
        help: "how often each account's stored password is checked by a login through its gateway",
      },
      {
        name: 'smtp-url',
        kind: 'string',
        value: 'URL',
        env: 'GATEHOUSE_SMTP_URL',
        default: 'none: no email codes',
        help: 'smtp://user:pass@host:port or smtps://… for email MFA codes',
      },
      {
        name: 'smtp-from',
        kind: 'string',
        value: 'ADDRESS',
        env: 'GATEHOUSE_SMTP_FROM',
        default: 'Gatehouse <gatehouse@localhost>',
        help: 'sender of those emails',
      },
      {
        name: 'trust-proxy',
        kind: 'optional',
        value: 'HOPS',
        env: 'GATEHOUSE_TRUST_PROXY',
        default: 'off',
        help: 'take the source address from X-Forwarded-For (true = 1 hop, or a hop count)',
      },
      {
        name: 'login-max-failures',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_LOGIN_MAX_FAILURES',
        default: '5',
        help: 'wrong passwords per email + source address before a lockout',
      },
      {
        name: 'login-max-failures-per-user',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_LOGIN_MAX_FAILURES_PER_USER',
        default: '20',
        help: 'wrong passwords per email from any address before a lockout',
      },
      {
        name: 'mfa-max-failures',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_MFA_MAX_FAILURES',
        default: '5',
        help: 'wrong MFA codes per user before a lockout',
      },
      {
        name: 'lockout-minutes',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_LOCKOUT_MINUTES',
        default: '15',
        help: 'the counting window and the lockout length',
      },
      {
        name: 'metrics-token',
        kind: 'string',
        value: 'TOKEN',
        env: 'GATEHOUSE_METRICS_TOKEN',
        default: 'off: /metrics answers 404',
        help: 'serve /metrics to Authorization: Bearer TOKEN (at least 16 characters)',
      },
      {
        name: 'audit-checkpoint-seconds',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_AUDIT_CHECKPOINT_SECONDS',
        default: '300',
        help: 'how often the audit chain head is signed (one more at shutdown)',
      },
      {
        name: 'retention-days',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_RETENTION_DAYS',
        default: 'keep',
        help: 'delete the session events of sessions over for more than N days',
      },
      {
        name: 'audit-retention-days',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_AUDIT_RETENTION_DAYS',
        default: 'keep',
        help: 'export, then delete audit events older than N days',
      },
      {
        name: 'audit-export-dir',
        kind: 'string',
        value: 'DIR',
        env: 'GATEHOUSE_AUDIT_EXPORT_DIR',
        default: '<data-dir>/audit-export',
        help: 'where audit events go before retention deletes them',
      },
      {
        name: 'console-dir',
        kind: 'string',
        value: 'DIR',
        env: 'GATEHOUSE_CONSOLE_DIR',
        default: "the checkout's renderer/dist-console, built when missing or stale",
        help: 'serve this built web console as is',
      },
      {
        name: 'advertise-url',
        kind: 'string',
        value: 'URL',
        env: 'GATEHOUSE_ADVERTISE_URL',
        default: 'http://<host>:<port>',
        help: 'where gateways reach this replica directly (several replicas on one DATABASE_URL)',
      },
      {
        name: 'web-idle-timeout',
        kind: 'string',
        value: 'SECONDS',
        env: 'GATEHOUSE_WEB_IDLE_TIMEOUT_SECONDS',
        default: '900',
        help: 'Web Access: end a web session idle this long',
      },
      {
        name: 'web-statement-timeout',
        kind: 'string',
        value: 'MS',
        env: 'GATEHOUSE_WEB_STATEMENT_TIMEOUT_MS',
        default: '60000',
        help: 'Web Access: cancel a statement running longer',
      },
      {
        name: 'web-max-rows',
        kind: 'string',
        value: 'N',
        env: 'GATEHOUSE_WEB_MAX_ROWS',
        default: '1000',
        help: 'Web Access: rows sent to the browser per result (more on demand)',
      },
      { name: 'web-max-sessions', kind: 'string', value: 'N', env: 'GATEHOUSE_WEB_MAX_SESSIONS', default: '3', help: 'Web Access: live web sessions per user' },
      {
        name: 'replica-heartbeat-ms',
        kind: 'string',
        value: 'MS',
        env: 'GATEHOUSE_REPLICA_HEARTBEAT_MS',
        default: '2000',
        help: 'how often a replica beats in the store; silent for 3 beats, it leaves the cluster',
      },
    ],
    envOnly: [ROOT_KEY_ENV, LOG_LEVEL_ENV],
  },
  {
    name: 'bootstrap',
    synopsis: 'gatehouse-server bootstrap --email EMAIL --password PASSWORD [--project NAME] [--json] [--data-dir DIR]',
    description:
      'Creates the first instance admin and a project in a new store, once. Run it before the first\nstart; it refuses the data dir of a running server (add users through its API instead).',
    flags: [
      { name: 'email', kind: 'string', value: 'EMAIL', help: "the admin's email (required)" },
      { name: 'password', kind: 'string', value: 'PASSWORD', help: "the admin's password, at least 8 characters (required)" },
      { name: 'project', kind: 'string', value: 'NAME', default: 'default', help: 'the first project' },
      { name: 'json', kind: 'boolean', help: 'print one JSON line {"userId","email","projectId"}' },
      DATA_DIR,
      DATABASE_URL,
    ],
    envOnly: [ROOT_KEY_ENV],
  },
  {
    name: 'audit verify',
    synopsis: 'gatehouse-server audit verify [--data-dir DIR] [--database-url URL] [--checkpoints FILE] [--public-key FILE]',
    description:
      'Checks the audit hash chain: exit 0 with the number of events when it holds, exit 1 naming\nthe first event that does not verify. Refuses a data dir with no store in it, and (embedded\nstore) the data dir of a running server: stop it first.',
    flags: [
      DATA_DIR,
      DATABASE_URL,
      {
        name: 'checkpoints',
        kind: 'string',
        value: 'FILE',
        help: "more signed checkpoints (a log or SIEM export), checked with the data dir's audit-checkpoints.ndjson; a truncation or rewrite is reported",
      },
      { name: 'public-key', kind: 'string', value: 'FILE', default: 'derived from the root key', help: "the checkpoint signing key's public half (PEM)" },
    ],
  },
];

export const SERVER_TOP_USAGE = `gatehouse-server — the Gatehouse control plane

Usage:
${SERVER_COMMANDS.map((c) => `  ${c.synopsis}`).join('\n')}
  gatehouse-server --version

Run 'gatehouse-server <command> --help' for a command's flags.`;

export function commandUsage(spec: CommandSpec): string {
  const rows = spec.flags.map((f) => {
    const left = `--${f.name}${f.kind === 'string' ? ` ${f.value ?? 'VALUE'}` : f.kind === 'optional' ? ` [${f.value ?? 'VALUE'}]` : ''}`;
    const extra = [f.env && `env ${f.env}`, f.default && `default ${f.default}`].filter(Boolean).join('; ');
    return [left, `${f.help}${extra ? ` (${extra})` : ''}`];
  });
  rows.push(['--help, -h', 'this help'], ['--version', 'the version']);
  const width = Math.max(...rows.map(([l]) => l.length));
  const env = spec.envOnly?.length ? `\n\nEnvironment:\n${spec.envOnly.map((e) => `  ${e.env.padEnd(width)}  ${e.help}`).join('\n')}` : '';
  return `Usage: ${spec.synopsis}\n\n${spec.description}\n\nOptions:\n${rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`).join('\n')}${env}`;
}

/** A mistake in the command line (exit 2). */
export class FlagError extends Error {
  override name = 'FlagError';
}

/**
 * `--name value`, `--name=value`, boolean `--flag`; unknown flags, missing values and stray
 * arguments are FlagErrors naming them.
 */
export function parseCommandFlags(spec: CommandSpec, argv: readonly string[]): Record<string, string> {
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new FlagError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = byName.get(name);
    if (!flag) throw new FlagError(`unknown flag --${name}${suggest(name, spec)}`);
    const next = argv[i + 1];
    if (eq !== -1) {
      if (flag.kind === 'boolean' && !['true', 'false'].includes(arg.slice(eq + 1))) throw new FlagError(`--${name} takes no value`);
      flags[name] = arg.slice(eq + 1);
    } else if (flag.kind === 'boolean') {
      flags[name] = 'true';
    } else if (next !== undefined && !next.startsWith('--')) {
      flags[name] = next;
      i++;
    } else if (flag.kind === 'optional') {
      flags[name] = 'true';
    } else {
      throw new FlagError(`--${name} needs a value (${flag.value ?? 'VALUE'})`);
    }
  }
  return flags;
}

function suggest(name: string, spec: CommandSpec): string {
  const plain = name.replace(/[-_]/g, '').toLowerCase();
  const close = spec.flags.find((f) => f.name.replace(/-/g, '') === plain);
  return close ? ` (did you mean --${close.name}?)` : '';
}
