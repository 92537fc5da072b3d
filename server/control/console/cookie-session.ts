/**
 * The console's browser session: the refresh token lives in an HttpOnly, SameSite=Strict
 * cookie scoped to the cookie-auth routes (Secure under https); the access token only in the
 * page's memory. Requests authenticated by that cookie (refresh, sign-out) must carry the
 * CSRF token in a header: an HMAC of the refresh token under a key of its own ("signed
 * double submit"), readable by the page from a second cookie, so a cross-site page can
 * neither read nor forge it. They must also come from this origin when the browser says
 * where they come from (Origin, Sec-Fetch-Site).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

export const REFRESH_COOKIE = 'gatehouse_refresh';
export const CSRF_COOKIE = 'gatehouse_csrf';
export const CSRF_HEADER = 'x-gatehouse-csrf';
/** The only path the refresh cookie is ever sent to. */
export const COOKIE_AUTH_PATH = '/api/v1/auth/cookie';

export interface CookieSessionOptions {
  csrfKey: Buffer;
  /** Mark cookies Secure (the public URL is https). */
  secure: boolean;
  refreshTtlSeconds: number;
}

export class CookieSession {
  readonly #o: CookieSessionOptions;

  constructor(options: CookieSessionOptions) {
    this.#o = options;
  }

  csrfFor(refreshToken: string): string {
    return createHmac('sha256', this.#o.csrfKey).update(`gatehouse-csrf\n${refreshToken}`).digest('base64url');
  }

  /** Set-Cookie values that start (or rotate) the browser session. */
  issue(refreshToken: string): { cookies: string[]; csrfToken: string } {
    const csrfToken = this.csrfFor(refreshToken);
    const maxAge = this.#o.refreshTtlSeconds;
    return {
      csrfToken,
      cookies: [
        this.#cookie(REFRESH_COOKIE, refreshToken, { path: COOKIE_AUTH_PATH, httpOnly: true, maxAge }),
        this.#cookie(CSRF_COOKIE, csrfToken, { path: '/', httpOnly: false, maxAge }),
      ],
    };
  }

  /** Set-Cookie values that end the browser session. */
  clear(): string[] {
    return [
      this.#cookie(REFRESH_COOKIE, '', { path: COOKIE_AUTH_PATH, httpOnly: true, maxAge: 0 }),
      this.#cookie(CSRF_COOKIE, '', { path: '/', httpOnly: false, maxAge: 0 }),
    ];
  }

  /**
   * The refresh token of a cookie-authenticated request, once the request proved it comes
   * from the console: same origin, and the CSRF header matching the cookie.
   */
  authenticate(req: IncomingMessage): string {
    const site = header(req, 'sec-fetch-site');
    if (site !== undefined && site !== 'same-origin') throw csrf('this request came from another site');
    const origin = header(req, 'origin');
    if (origin !== undefined && !sameOrigin(origin, header(req, 'host'))) throw csrf('this request came from another origin');
    const token = parseCookies(header(req, 'cookie'))[REFRESH_COOKIE];
    if (!token) throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'no console session: sign in again');
    const given = header(req, CSRF_HEADER) ?? '';
    const expected = this.csrfFor(token);
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw csrf(`missing or wrong ${CSRF_HEADER} header`);
    return token;
  }

  #cookie(name: string, value: string, o: { path: string; httpOnly: boolean; maxAge: number }): string {
    return [`${name}=${value}`, `Path=${o.path}`, `Max-Age=${o.maxAge}`, 'SameSite=Strict', o.httpOnly ? 'HttpOnly' : '', this.#o.secure ? 'Secure' : '']
      .filter(Boolean)
      .join('; ');
  }
}

export function parseCookies(headerValue: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (headerValue ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!(name in out)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

function csrf(reason: string): GatehouseError {
  return new GatehouseError(ErrorCodes.CSRF, `refused: ${reason} (cookie-authenticated requests must come from the Gatehouse console)`);
}
