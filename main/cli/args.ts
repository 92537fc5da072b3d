import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  domain: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** parseArgs, strict, with its errors turned into UsageErrors for `command`. */
export function parse<O extends Options>(command: string, argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command);
  }
}

export function requireString(command: string, value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`${flag} is required`, command);
  return value;
}

export function parsePort(command: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65_535) {
    throw new UsageError(`--port must be a number between 1 and 65535, got "${value}"`, command);
  }
  return port;
}

/** '90', '90s', '30m', '1h', '2d', '1h30m'. Seconds as a number, else the string as given. */
export function parseDuration(command: string, value: string): string | number {
  if (/^\d+$/.test(value)) return Number(value);
  if (/^(\d+[smhd])+$/.test(value)) return value;
  throw new UsageError(`--duration must look like 30m, 1h, 8h or a number of seconds, got "${value}"`, command);
}
