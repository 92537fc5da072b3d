import { isGatehouseErrorLike, type SerializedError } from '../../proxy-core/src/errors.ts';
import { retryAfterText } from '../core/api/api-errors.ts';
import { err, out, processIo, type CliIo } from './io.ts';
import { productVersion } from '../../proxy-core/src/version.ts';
import { usage } from './usage.ts';
import { EXIT_ERROR, EXIT_USAGE, UsageError } from './usage-error.ts';

type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Command words → the module that runs them (loaded lazily: `--help` stays instant). */
const COMMANDS: Record<string, () => Promise<Command>> = {
  login: async () => (await import('./commands/login.ts')).login,
  'invitations accept': async () => (await import('./commands/invitations.ts')).invitationsAccept,
  'projects list': async () => (await import('./commands/projects.ts')).projectsList,
  'accounts list': async () => (await import('./commands/accounts.ts')).accountsList,
  logout: async () => (await import('./commands/logout.ts')).logout,
  'db access': async () => (await import('./commands/db-access.ts')).dbAccess,
  'sessions list': async () => (await import('./commands/sessions.ts')).sessionsList,
  'sessions logs': async () => (await import('./commands/sessions.ts')).sessionsLogs,
  'sessions extend': async () => (await import('./commands/sessions.ts')).sessionsExtend,
  'profiles list': async () => (await import('./commands/profiles.ts')).profilesList,
  'profiles write': async () => (await import('./commands/profiles.ts')).profilesWrite,
  'profiles remove': async () => (await import('./commands/profiles.ts')).profilesRemove,
  'mfa enroll': async () => (await import('./commands/mfa.ts')).mfaEnroll,
  'requests list': async () => (await import('./commands/requests.ts')).requestsList,
  'requests approve': async () => (await import('./commands/requests.ts')).requestsApprove,
  'requests deny': async () => (await import('./commands/requests.ts')).requestsDeny,
};
const GROUPS = new Set(
  Object.keys(COMMANDS)
    .filter((n) => n.includes(' '))
    .map((n) => n.split(' ')[0]),
);

/** Every command ('login', 'db access', ...), for tests and completion. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

/**
 * The `gatehouse` CLI. Returns the exit code: 0 done, 1 failed (one line on stderr saying
 * why), 2 bad command line. stdout carries only command output; logs go to stderr.
 */
export async function main(argv: string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...processIo(), ...ioOverrides };
  // Quiet by default: warnings and errors only (GATEHOUSE_LOG_LEVEL overrides), set before
  // the first module that creates a logger is loaded.
  process.env.GATEHOUSE_LOG_LEVEL ??= 'warn';

  const [first, second] = argv;
  if (first === '--version' || first === '-V' || first === 'version' || (argv.includes('--version') && !argv.includes('--help'))) {
    out(io, `gatehouse ${productVersion()}`);
    return 0;
  }
  if (first === undefined) {
    err(io, usage());
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    out(io, usage(argv.slice(1).join(' ') || undefined));
    return 0;
  }
  let name = first;
  let rest = argv.slice(1);
  if (GROUPS.has(first)) {
    if (second === undefined || second.startsWith('-')) {
      if (second === '--help' || second === '-h') {
        out(io, usage(first));
        return 0;
      }
      if (!Object.hasOwn(COMMANDS, `${first} list`)) {
        err(io, `gatehouse: '${first}' needs a subcommand\n\n${usage(first)}`);
        return EXIT_USAGE;
      }
      name = `${first} list`; // `gatehouse accounts` lists them
      rest = argv.slice(1);
    } else {
      name = `${first} ${second}`;
      rest = argv.slice(2);
    }
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    err(io, `gatehouse: unknown command '${name}'. Run 'gatehouse --help'.`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(io, usage(name));
    return 0;
  }
  try {
    return await (
      await load()
    )(rest, io);
  } catch (e) {
    return report(io, name, e);
  }
}

function report(io: CliIo, command: string, e: unknown): number {
  if (e instanceof UsageError) {
    err(io, `gatehouse ${e.command ?? command}: ${e.message}\nRun 'gatehouse ${e.command ?? command} --help' for usage.`);
    return EXIT_USAGE;
  }
  if (isGatehouseErrorLike(e)) {
    const hint = signInHint(e.code) + retryHint(e);
    err(io, `gatehouse: ${e.message}${hint}`);
    return EXIT_ERROR;
  }
  err(io, `gatehouse: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT_ERROR;
}

/** LOCKED_OUT / RATE_LIMITED: when trying again makes sense. */
function retryHint(e: SerializedError): string {
  const seconds = e.details?.retryAfterSeconds;
  return typeof seconds === 'number' ? ` (${retryAfterText(seconds)})` : '';
}

function signInHint(code: string): string {
  return code === 'GATEHOUSE_ERR_NOT_SIGNED_IN' || code === 'GATEHOUSE_ERR_UNAUTHENTICATED' || code === 'GATEHOUSE_ERR_TOKEN_EXPIRED'
    ? ' (run: gatehouse login --domain URL)'
    : '';
}
