import { parseArgs } from 'node:util';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { productVersion } from '../../proxy-core/src/version.ts';
import { enrollGateway } from './enroll.ts';
import type { EventLogOptions } from './event-log.ts';
import { createGateway } from './gateway.ts';
import { startHealthServer } from './health.ts';
import { ensureDataDir, loadIdentity, resolveDataDir } from './identity.ts';

const log = createLogger('gateway.cli');

const OPTIONS_HELP = `Options:
  --domain URL      the control plane (e.g. https://gatehouse.example.com); env GATEHOUSE_DOMAIN
  --token TOKEN     one-time enrollment token from "POST /api/v1/gateways"; env GATEHOUSE_GATEWAY_TOKEN
  --data-dir DIR    identity and event log (default ./.gatehouse-gateway); env GATEHOUSE_GATEWAY_DATA_DIR
  --help, -h        this help
  --version         the version`;

const START_OPTIONS_HELP = `${OPTIONS_HELP}
  --health-port P   serve GET /healthz (200 linked, 503 reconnecting) and GET /metrics on
                    127.0.0.1:P (--health-host to change); env GATEHOUSE_GATEWAY_HEALTH_PORT
  --health-host H   address of the health listener (default 127.0.0.1)

Event log (fail closed):
  --warn-free-mb N  warn (log line, metric) when the data dir has less than N MiB free (default 512)
  --min-free-mb N   below N MiB free, refuse statements and connections (53100) rather than
                    run them unrecorded (default 64); resumes by itself when space returns
  --reserve-mb N    space held back for the events of running statements when the disk fills (default 16)`;

const USAGE = `Usage:
  gatehouse-gateway enroll --domain URL --token TOKEN [--data-dir DIR]
  gatehouse-gateway start  --domain URL [--data-dir DIR] [--token TOKEN] [--health-port PORT]
  gatehouse-gateway --version

${START_OPTIONS_HELP}

The gateway never gives up on the control plane: when the link drops (restart, deploy,
network) or the control plane is not up yet, it redials with capped exponential backoff
(at most 4 s apart) and logs one line per attempt, until it is stopped.
`;

/** Each subcommand's help (`gatehouse-gateway <command> --help`). */
export const GATEWAY_COMMAND_HELP: Record<string, string> = {
  enroll: `Usage: gatehouse-gateway enroll --domain URL --token TOKEN [--data-dir DIR]

Enrolls this gateway with the control plane once: the one-time token is spent and the
gateway's key and certificate are kept in the data dir. Exits when done.

${OPTIONS_HELP}
`,
  start: `Usage: gatehouse-gateway start --domain URL [--data-dir DIR] [--token TOKEN] [--health-port PORT]

Runs the gateway next to the database: dials out to the control plane (nothing dials in),
keeps the link up with capped backoff, and serves sessions until Ctrl+C or SIGTERM. The
first start enrolls with --token when the data dir has no identity yet; later starts need
only --domain and --data-dir. Session events wait on disk until the control plane has them.

${START_OPTIONS_HELP}
`,
};

/** `gatehouse-gateway` entry point; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        domain: { type: 'string' },
        token: { type: 'string' },
        'data-dir': { type: 'string' },
        'health-port': { type: 'string' },
        'health-host': { type: 'string' },
        'warn-free-mb': { type: 'string' },
        'min-free-mb': { type: 'string' },
        'reserve-mb': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.version || command === 'version') {
    process.stdout.write(`gatehouse-gateway ${productVersion()}\n`);
    return 0;
  }
  if (command === 'help' || values.help) {
    const about = command === 'help' ? positionals[1] : command;
    process.stdout.write(about !== undefined && Object.hasOwn(GATEWAY_COMMAND_HELP, about) ? GATEWAY_COMMAND_HELP[about] : USAGE);
    return 0;
  }
  if (!command) {
    process.stderr.write(USAGE);
    return 2;
  }
  const known = Object.hasOwn(GATEWAY_COMMAND_HELP, command);
  if (!known || positionals.length > 1) {
    process.stderr.write(
      `gatehouse-gateway: ${known ? `unexpected argument "${positionals[1]}"` : `unknown command "${command}"`}. Run 'gatehouse-gateway --help'.\n`,
    );
    return 2;
  }
  const domain = values.domain ?? process.env.GATEHOUSE_DOMAIN;
  const token = values.token ?? process.env.GATEHOUSE_GATEWAY_TOKEN;
  const dataDir = resolveDataDir(values['data-dir']);
  if (!domain) {
    process.stderr.write(`--domain is required\n\n${USAGE}`);
    return 2;
  }
  const healthText = values['health-port'] ?? emptyToUndefined(process.env.GATEHOUSE_GATEWAY_HEALTH_PORT);
  const healthPort = healthText === undefined ? undefined : Number(healthText);
  if (healthPort !== undefined && (!/^\d+$/.test(healthText ?? '') || healthPort > 65535)) {
    process.stderr.write(`--health-port must be a port number (got "${healthText}")\n\n${USAGE}`);
    return 2;
  }
  const health = healthPort === undefined ? undefined : { port: healthPort, host: values['health-host'] ?? '127.0.0.1' };
  try {
    if (command === 'enroll') return await enroll(domain, token, dataDir);
    if (command === 'start') return await start(domain, token, dataDir, health, diskLimits(values));
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  } catch (err) {
    const message = isGatehouseErrorLike(err) ? `${err.message} (${err.code})` : (err as Error).message;
    log.error({ err: isGatehouseErrorLike(err) ? err.code : (err as Error).message }, 'gateway failed');
    process.stderr.write(`gatehouse-gateway: ${message}\n`);
    return 1;
  }
}

async function enroll(domain: string, token: string | undefined, dataDir: string): Promise<number> {
  if (!token) {
    process.stderr.write(`--token is required to enroll\n\n${USAGE}`);
    return 2;
  }
  await ensureDataDir(dataDir);
  const existing = await loadIdentity(dataDir);
  if (existing) {
    process.stderr.write(`already enrolled as gateway ${existing.gatewayId} (identity in ${dataDir}); use another --data-dir to enroll again\n`);
    return 1;
  }
  const identity = await enrollGateway({ domain, token, dataDir });
  process.stdout.write(`enrolled as gateway ${identity.gatewayId}${identity.name ? ` (${identity.name})` : ''}; identity stored in ${dataDir}\n`);
  return 0;
}

const MIB = 1024 * 1024;

/** The event log's disk thresholds from `--warn-free-mb`, `--min-free-mb`, `--reserve-mb`. */
function diskLimits(values: Record<string, string | boolean | undefined>): EventLogOptions {
  const mib = (name: string): number | undefined => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isFinite(n) || n < 0)
      throw new GatehouseError(ErrorCodes.CONFIG, `--${name} must be a number of MiB (got ${String(raw)})`);
    return Math.round(n * MIB);
  };
  return { warnFreeBytes: mib('warn-free-mb'), minFreeBytes: mib('min-free-mb'), reserveBytes: mib('reserve-mb') };
}

async function start(
  domain: string,
  token: string | undefined,
  dataDir: string,
  health: { port: number; host: string } | undefined,
  eventLog: EventLogOptions,
): Promise<number> {
  const gateway = createGateway({ domain, dataDir, token, eventLog });
  await gateway.start();
  const healthServer = health ? await startHealthServer(gateway, health.port, health.host) : undefined;
  const stop = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const signal = await stop;
  log.info({ signal }, 'stopping');
  await healthServer?.close();
  await gateway.close();
  return 0;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
