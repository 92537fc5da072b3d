import { parseArgs } from 'node:util';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { enrollGateway } from './enroll.ts';
import type { EventLogOptions } from './event-log.ts';
import { createGateway } from './gateway.ts';
import { ensureDataDir, loadIdentity, resolveDataDir } from './identity.ts';

const log = createLogger('gateway.cli');

const USAGE = `Usage:
  gatehouse-gateway enroll --domain URL --token TOKEN [--data-dir DIR]
  gatehouse-gateway start  --domain URL [--data-dir DIR] [--token TOKEN]

Options:
  --domain URL     the control plane (e.g. https://gatehouse.example.com); env GATEHOUSE_DOMAIN
  --token TOKEN    one-time enrollment token from "POST /api/v1/gateways"; env GATEHOUSE_GATEWAY_TOKEN
  --data-dir DIR   identity and event log (default ./.gatehouse-gateway); env GATEHOUSE_GATEWAY_DATA_DIR
  --warn-free-mb N  warn (log line, metric) when the data dir has less than N MiB free (default 512)
  --min-free-mb N   below N MiB free, refuse statements and connections (53100) rather than
                    run them unrecorded (default 64); resumes by itself when space returns
  --reserve-mb N    space held back for the events of running statements when the disk fills (default 16)
`;

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
        'warn-free-mb': { type: 'string' },
        'min-free-mb': { type: 'string' },
        'reserve-mb': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
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
    if (command === 'start') return await start(domain, token, dataDir, diskLimits(values));
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
    if (typeof raw !== 'string' || !Number.isFinite(n) || n < 0) throw new GatehouseError(ErrorCodes.CONFIG, `--${name} must be a number of MiB (got ${String(raw)})`);
    return Math.round(n * MIB);
  };
  return { warnFreeBytes: mib('warn-free-mb'), minFreeBytes: mib('min-free-mb'), reserveBytes: mib('reserve-mb') };
}

async function start(domain: string, token: string | undefined, dataDir: string, eventLog: EventLogOptions): Promise<number> {
  const gateway = createGateway({ domain, dataDir, token, eventLog });
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
