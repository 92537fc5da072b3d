import type { MfaMethod, MfaProof } from '../core/api/types.ts';
import { err, type CliIo } from './io.ts';
import { prompt } from './prompt.ts';
import { UsageError } from './usage-error.ts';

export const MFA_METHODS: readonly MfaMethod[] = ['totp', 'email', 'recovery'];

/** The `--mfa-code` / `--mfa-method` options shared by `login` and `db access`. */
export const MFA_OPTIONS = {
  'mfa-code': { type: 'string' },
  'mfa-method': { type: 'string' },
} as const;

export function parseMfaMethod(command: string, value: string | undefined): MfaMethod | undefined {
  if (value === undefined) return undefined;
  if (!(MFA_METHODS as readonly string[]).includes(value)) {
    throw new UsageError(`--mfa-method must be one of ${MFA_METHODS.join(', ')}, got "${value}"`, command);
  }
  return value as MfaMethod;
}

export interface MfaAsk {
  command: string;
  /** What the server accepts (from the challenge); empty means "not said". */
  methods: readonly MfaMethod[];
  flagCode?: string;
  flagMethod?: MfaMethod;
  /** Mails a code (called when the method is email and no code was given). */
  sendEmail(): Promise<void>;
}

/** The method to use: the flag, else TOTP when accepted, else the server's first. */
export function pickMethod(ask: Pick<MfaAsk, 'command' | 'methods' | 'flagMethod'>): MfaMethod {
  const { methods, flagMethod } = ask;
  if (flagMethod) {
    if (methods.length > 0 && !methods.includes(flagMethod)) {
      throw new UsageError(`the server does not accept --mfa-method ${flagMethod} here; it accepts: ${methods.join(', ')}`, ask.command);
    }
    return flagMethod;
  }
  if (methods.length === 0 || methods.includes('totp')) return 'totp';
  return methods.find((m) => m !== 'recovery') ?? methods[0] ?? 'totp';
}

const QUESTIONS: Record<MfaMethod, string> = {
  totp: 'Authentication code from your app: ',
  email: 'Code from the email: ',
  recovery: 'Recovery code: ',
};

/**
 * A code for the server's MFA challenge: `--mfa-code`, or asked on the terminal. For email,
 * the code is mailed first (and the person told so). Off a terminal without `--mfa-code`
 * it is a usage error (scripts pass the flag).
 */
export async function obtainMfaProof(io: CliIo, ask: MfaAsk): Promise<MfaProof & { prompted: boolean }> {
  const method = pickMethod(ask);
  if (ask.flagCode !== undefined) return { method, code: ask.flagCode.trim(), prompted: false };
  if (!io.stdin.isTTY) {
    if (method === 'email') {
      await ask.sendEmail();
      err(io, 'A sign-in code was sent to your email address.');
    }
    throw new UsageError(
      `a second factor is required: pass --mfa-code${method === 'email' ? ' with the code from the email' : ''} (and --mfa-method ${method}) when not on a terminal`,
      ask.command,
    );
  }
  if (method === 'email') {
    await ask.sendEmail();
    err(io, 'A code was sent to your email address (valid 10 minutes).');
  }
  const code = (await prompt(io, QUESTIONS[method])).trim();
  return { method, code, prompted: true };
}
