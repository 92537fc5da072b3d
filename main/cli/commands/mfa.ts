import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { err, out, type CliIo } from '../io.ts';
import { prompt } from '../prompt.ts';
import { UsageError } from '../usage-error.ts';

const COMMAND = 'mfa enroll';

/**
 * TOTP enrollment: shows the otpauth URL (and a QR code on a UTF-8 terminal), asks for a
 * first code from the app (`--code`, or the next line of stdin), then prints the ten
 * recovery codes — once.
 */
export async function mfaEnroll(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(COMMAND, argv, { ...COMMON_OPTIONS, code: { type: 'string' }, qr: { type: 'boolean' } });
  const ctx = await openContext(io, COMMAND, values.domain);
  try {
    await showEnrollment(io, await ctx.api.enrollTotp(), values.qr === true);
    const code = values.code ?? (await askEnrollmentCode(io, COMMAND, '--code'));
    printRecoveryCodes(io, await ctx.api.confirmTotp(code.trim()));
    err(io, 'Done. Next sign-ins ask for a code from your app.');
    return 0;
  } finally {
    await ctx.api.close();
  }
}

/** The otpauth URL and secret, and a QR code on a UTF-8 terminal (or with `forceQr`). */
export async function showEnrollment(io: CliIo, enrollment: { otpauthUrl: string; secret: string }, forceQr = false): Promise<void> {
  out(io, 'Add Gatehouse to your authenticator app (Google Authenticator, 1Password, Authy, …):');
  out(io, '');
  if (forceQr || utf8Terminal(io)) {
    const qr = await renderQr(enrollment.otpauthUrl);
    if (qr) out(io, qr);
  }
  out(io, `  URL:     ${enrollment.otpauthUrl}`);
  out(io, `  Secret:  ${enrollment.secret}`);
  out(io, '');
}

/** The first code from the app: asked on the terminal, or the next line of stdin. */
export async function askEnrollmentCode(io: CliIo, command: string, flag: string): Promise<string> {
  const code = await prompt(io, 'Code shown by the app: ').catch(() => {
    throw new UsageError(`no code: pass ${flag}, or type the code from your app`, command);
  });
  return code.trim();
}

export function printRecoveryCodes(io: CliIo, recoveryCodes: string[]): void {
  out(io, 'Two-factor authentication is on. Recovery codes (each works once, if you lose the app;');
  out(io, 'store them somewhere safe — they are not shown again):');
  out(io, '');
  for (const rc of recoveryCodes) out(io, `  ${rc}`);
}

/** A UTF-8 locale on a terminal: the half-block QR code renders there. */
function utf8Terminal(io: CliIo): boolean {
  const locale = io.env.LC_ALL || io.env.LC_CTYPE || io.env.LANG || '';
  return Boolean((io.stdout as { isTTY?: boolean }).isTTY) && /utf-?8/i.test(locale);
}

async function renderQr(url: string): Promise<string | undefined> {
  try {
    const { toString } = await import('qrcode');
    return await toString(url, { type: 'terminal', small: true });
  } catch {
    return undefined; // the URL and secret below are enough
  }
}
