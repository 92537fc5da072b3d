/**
 * The console's one way to the API (same origin): the access token is kept in memory only,
 * sent as a bearer token; when it expires, the HttpOnly refresh cookie buys a new one
 * (with the CSRF header the server requires), once, and the call is retried.
 */
export const CSRF_COOKIE = 'gatehouse_csrf';
export const CSRF_HEADER = 'x-gatehouse-csrf';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, code: string, message: string, body: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export interface BrowserTokens {
  accessToken: string;
  expiresAt: string;
  csrfToken: string;
  user: { id: string; email: string; name: string; isAdmin: boolean };
  recoveryCodes?: string[];
}

let accessToken: string | undefined;
let onSignedOut: () => void = () => undefined;
let refreshing: Promise<boolean> | undefined;

export function setAccessToken(token: string | undefined): void {
  accessToken = token;
}

/** The bearer token for what `api()` cannot send: a WebSocket's subprotocol, a download's fetch. */
export function currentAccessToken(): string | undefined {
  return accessToken;
}

export function onSessionLost(fn: () => void): void {
  onSignedOut = fn;
}

export function readCsrfCookie(): string | undefined {
  const match = document.cookie
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${CSRF_COOKIE}=`));
  const value = match?.slice(CSRF_COOKIE.length + 1);
  return value ? value : undefined;
}

async function raw<T>(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const err = (json.error ?? {}) as { code?: string; message?: string };
    throw new ApiError(res.status, err.code ?? 'GATEHOUSE_ERR_INTERNAL', err.message ?? `request failed (${res.status})`, json);
  }
  return json as T;
}

/** Trades the refresh cookie for a new access token; false when there is no usable session. */
export function refreshSession(): Promise<boolean> {
  // One refresh at a time across the console's tabs: a refresh token works once, and the
  // server treats a second use as theft. Inside the lock the cookie is whatever the last
  // tab's refresh left, so each use is of a fresh token.
  const exclusive = (fn: () => Promise<boolean>): Promise<boolean> =>
    navigator.locks ? (navigator.locks.request('gatehouse-refresh', fn) as Promise<unknown> as Promise<boolean>) : fn();
  refreshing ??= exclusive(async () => {
    const csrf = readCsrfCookie();
    if (!csrf) return false;
    try {
      const tokens = await raw<BrowserTokens>('POST', '/auth/cookie/refresh', {}, { [CSRF_HEADER]: csrf });
      accessToken = tokens.accessToken;
      return true;
    } catch {
      return false;
    }
  }).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/** Public calls (sign-in steps): no bearer token. */
export function publicCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  return raw<T>(method, path, body, {});
}

/** An authenticated call; refreshes once on an expired or missing access token. */
export async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const attempt = () => raw<T>(method, path, body, { ...headers, ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) });
  try {
    return await attempt();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || err.code === 'GATEHOUSE_ERR_USER_DISABLED') throw err;
    if (!(await refreshSession())) {
      onSignedOut();
      throw err;
    }
    return attempt();
  }
}

/** Sign-out: the cookie-authenticated write (bearer + cookie + CSRF header). */
export async function signOutCall(): Promise<void> {
  await api('POST', '/auth/cookie/logout', {}, { [CSRF_HEADER]: readCsrfCookie() ?? '' }).catch(() => undefined);
  accessToken = undefined;
}
