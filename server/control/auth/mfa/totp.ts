/** TOTP (RFC 6238: SHA-1, 6 digits, 30 s) with otpauth; validation reports the time step used. */
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

const PERIOD_SECONDS = 30;
const ISSUER = 'Gatehouse';

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpFor(secretBase32: string, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

export async function totpEnrollment(secretBase32: string, label: string): Promise<{ secret: string; otpauthUrl: string; qrDataUrl: string }> {
  const otpauthUrl = totpFor(secretBase32, label).toString();
  return { secret: secretBase32, otpauthUrl, qrDataUrl: await QRCode.toDataURL(otpauthUrl) };
}

/** The time step the code belongs to (±1 step accepted), or undefined when it is wrong. */
export function totpStep(secretBase32: string, code: string, now = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totpFor(secretBase32, 'x').validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}
