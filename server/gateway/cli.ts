import { parseArgs } from 'node:util';
import { isGatehouseErrorLike } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { productVersion } from '../../proxy-core/src/version.ts';
import { enrollGateway } from './enroll.ts';
import { createGateway } from './gateway.ts';
import { ensureDataDir, loadIdentity, resolveDataDir } from './identity.ts';

const log = createLogger('gateway.cli');

const OPTIONS_HELP = `Options:
  --domain URL     the control plane (e.g. https://gatehouse.example.com); env GATEHOUSE_DOMAIN
  --token TOKEN    one-time enrollment token from "POST /api/v1/gateways"; env GATEHOUSE_GATEWAY_TOKEN
  --data-dir DIR   identity and event log (default ./.gatehouse-gateway); env GATEHOUSE_GATEWAY_DATA_DIR
  --help, -h       this help
  --version        the version`;

const USAGE = `Usage:
  gatehouse-gateway enroll --domain URL --token TOKEN [--data-dir DIR]
  gatehouse-gateway start  --domain URL [--data-dir DIR] [--token TOKEN]
  gatehouse-gateway --version

${OPTIONS_HELP}
`;

/** Each subcommand's help (`gatehouse-gateway <command> --help`). */
export const GATEWAY_COMMAND_HELP: Record<string, string> = {
  enroll: `Usage: gatehouse-gateway enroll --domain URL --token TOKEN [--data-dir DIR]

Enrolls this gateway with the control plane once: the one-time token is spent and the
gateway's key and certificate are kept in the data dir. Exits when done.

${OPTIONS_HELP}
`,
  start: `Usage: gatehouse-gateway start --domain URL [--data-dir DIR] [--token TOKEN]

Runs the gateway next to the database: dials out to the control plane (nothing dials in),
keeps the link up with capped backoff, and serves sessions until Ctrl+C or SIGTERM. The
first start enrolls with --token when the data dir has no identity yet; later starts need
only --domain and --data-dir. Session events wait on disk until the control plane has them.

${OPTIONS_HELP}
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
    process.stderr.write(`gatehouse-gateway: ${known ? `unexpected argument "${positionals[1]}"` : `unknown command "${command}"`}. Run 'gatehouse-gateway --help'.\n`);
    return 2;
  }
  const domain = values.domain ?? process.env.GATEHOUSE_DOMAIN;
  const token = values.token ?? process.env.GATEHOUSE_GATEWAY_TOKEN;
  const dataDir = resolveDataDir(values['data-dir']);
  if (!domain) {
    process.stderr.write(`--domain is required\n\n${USAGE}`);
    return 2;
  }
  try {
    if (command === 'enroll') return await enroll(domain, token, dataDir);
    if (command === 'start') return await start(domain, token, dataDir);
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

async function start(domain: string, token: string | undefined, dataDir: string): Promise<number> {
  const gateway = createGateway({ domain, dataDir, token });
  await gateway.start();
  const stop = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const signal = await stop;
  log.info({ signal }, 'stopping');
  await gateway.close();
  return 0;
}
