/**
 * Security headers on every HTTP response of the control plane: the console's pages get a
 * Content-Security-Policy without inline scripts; API answers one that allows nothing. Both
 * refuse framing, MIME sniffing and referrers.
 */
import type { ServerResponse } from 'node:http';

/** The console: only its own scripts, styles and API; QR codes are data: images. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON, metrics, streams: nothing to load, nothing to frame. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

const COMMON: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** Sets the headers every response carries; `https` adds HSTS (the public URL is https). */
export function setSecurityHeaders(res: ServerResponse, kind: 'page' | 'api', https: boolean): void {
  for (const [name, value] of Object.entries(COMMON)) res.setHeader(name, value);
  res.setHeader('content-security-policy', kind === 'page' ? CONSOLE_CSP : API_CSP);
  if (https) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
}
