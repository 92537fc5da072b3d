/**
 * Issue 11 (web console), serving and browser sign-in, against a real control plane:
 * the console is built by the server's own build function, served at `/` with strict
 * security headers, links into the app (the invitation link) answer the page, and the
 * browser session (HttpOnly refresh cookie + CSRF header) refuses forged writes while
 * bearer-token callers keep working as before.
 */
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, CONSOLE_HTML, isFresh } from '../../server/control/console/build.ts';
import { CONSOLE_CSP } from '../../server/control/console/security-headers.ts';
import { ADMIN, call, startTestPlane, type TestPlane } from '../../server/control/test/helpers.ts';

let t: TestPlane;
let consoleDir: string;

beforeAll(async () => {
  consoleDir = join(await mkdtemp(join(tmpdir(), 'gatehouse-console-')), 'dist');
  await buildConsole(consoleDir);
  t = await startTestPlane({ consoleDir });
}, 120_000);

afterAll(async () => {
  await t?.close();
  await rm(join(consoleDir, '..'), { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${t.url}${path}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

function cookiesOf(headers: Record<string, string | string[] | undefined>): string[] {
  const set = headers['set-cookie'];
  return set === undefined ? [] : Array.isArray(set) ? set : [set];
}

function cookieHeader(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]).join('; ');
}

describe('issue 11 step 1: the console is served at / on the API origin', () => {
  it('answers the page at / and at app paths that ask for HTML, with strict security headers', async () => {
    for (const path of ['/', '/gateways', '/sessions/abc', '/accept-invitation']) {
      const page = await get(path, { accept: 'text/html,application/xhtml+xml' });
      expect(page.status, path).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.text).toContain('<div id="root">');
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
      expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.headers['cache-control']).toBe('no-store');
    }
  });

  it('serves hashed assets gzipped and cacheable, and unknown assets 404', async () => {
    const page = await get('/', { accept: 'text/html' });
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await request(`${t.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    await asset.body.dump();
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-encoding']).toBe('gzip');
    expect(asset.headers['content-type']).toContain('text/javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/assets/nope.js')).status).toBe(404);
    expect((await get('/assets/../../etc/passwd')).status).toBe(404);
  });

  it('leaves the API where it was: JSON 404s, /healthz and API routes keep answering JSON with locked-down headers', async () => {
    const health = await get('/healthz', { accept: 'text/html' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ ok: true });
    const missing = await get('/api/v1/nope', { accept: 'text/html' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).error.code).toBe('GATEHOUSE_ERR_NOT_FOUND');
    expect(missing.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
    // A non-browser GET outside the API still gets the API's JSON answer.
    const json = await get('/gateways', { accept: 'application/json' });
    expect(json.status).toBe(404);
    expect(JSON.parse(json.text).error.code).toBe('GATEHOUSE_ERR_NOT_FOUND');
  });

  it('knows when a build is stale: a source newer than the build makes it rebuild', async () => {
    expect(await isFresh(consoleDir)).toBe(true);
    const future = new Date(Date.now() + 60_000);
    await utimes(join(consoleDir, CONSOLE_HTML), new Date(0), new Date(0));
    expect(await isFresh(consoleDir)).toBe(false);
    await utimes(join(consoleDir, CONSOLE_HTML), future, future);
  });
});

describe('issue 11 step 2: browser sign-in keeps the refresh token in an HttpOnly cookie and needs a CSRF token', () => {
  it('sets HttpOnly SameSite=Strict cookies, returns no refresh token, and refreshes only with the CSRF header', async () => {
    const login = await call(t.url, 'POST', '/api/v1/auth/cookie/login', { body: { email: ADMIN.email, password: ADMIN.password } });
    expect(login.status).toBe(200);
    expect(login.body.refreshToken).toBeUndefined();
    expect(login.body.accessToken).toMatch(/\./);
    const res = await request(`${t.url}/api/v1/auth/cookie/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    const body = (await res.body.json()) as { csrfToken: string };
    const set = cookiesOf(res.headers);
    const refresh = set.find((c) => c.startsWith('gatehouse_refresh='))!;
    expect(refresh).toContain('HttpOnly');
    expect(refresh).toContain('SameSite=Strict');
    expect(refresh).toContain('Path=/api/v1/auth/cookie');
    expect(refresh).not.toContain('Secure'); // http here; Secure under an https public URL
    const csrfCookie = set.find((c) => c.startsWith('gatehouse_csrf='))!;
    expect(csrfCookie).not.toContain('HttpOnly');
    expect(csrfCookie).toContain(`gatehouse_csrf=${body.csrfToken}`);
    const cookie = cookieHeader(set);

    // The cookie alone (what a cross-site form or fetch would carry) is refused.
    const noCsrf = await call(t.url, 'POST', '/api/v1/auth/cookie/refresh', { headers: { cookie }, body: {} });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.error.code).toBe('GATEHOUSE_ERR_CSRF');
    const wrong = await call(t.url, 'POST', '/api/v1/auth/cookie/refresh', { headers: { cookie, 'x-gatehouse-csrf': 'x'.repeat(43) }, body: {} });
    expect(wrong.body.error.code).toBe('GATEHOUSE_ERR_CSRF');
    const crossSite = await call(t.url, 'POST', '/api/v1/auth/cookie/refresh', {
      headers: { cookie, 'x-gatehouse-csrf': body.csrfToken, origin: 'https://evil.example' },
      body: {},
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error.code).toBe('GATEHOUSE_ERR_CSRF');
    const fetchSite = await call(t.url, 'POST', '/api/v1/auth/cookie/refresh', {
      headers: { cookie, 'x-gatehouse-csrf': body.csrfToken, 'sec-fetch-site': 'cross-site' },
      body: {},
    });
    expect(fetchSite.body.error.code).toBe('GATEHOUSE_ERR_CSRF');

    // With the header, from the console's origin: a new access token and rotated cookies.
    const ok = await request(`${t.url}/api/v1/auth/cookie/refresh`, {
      method: 'POST',
      headers: { cookie, 'x-gatehouse-csrf': body.csrfToken, origin: t.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      body: '{}',
    });
    const refreshed = (await ok.body.json()) as { accessToken: string; csrfToken: string; refreshToken?: string };
    expect(ok.statusCode).toBe(200);
    expect(refreshed.refreshToken).toBeUndefined();
    expect(refreshed.csrfToken).not.toBe(body.csrfToken);
    const me = await call(t.url, 'GET', '/api/v1/me', { token: refreshed.accessToken });
    expect(me.body.user.email).toBe(ADMIN.email);

    // Sign-out is a cookie-authenticated write too: refused without the header, then clears the cookies.
    const newCookie = cookieHeader(cookiesOf(ok.headers));
    const outNoCsrf = await call(t.url, 'POST', '/api/v1/auth/cookie/logout', { token: refreshed.accessToken, headers: { cookie: newCookie }, body: {} });
    expect(outNoCsrf.status).toBe(403);
    expect(outNoCsrf.body.error.code).toBe('GATEHOUSE_ERR_CSRF');
    const out = await request(`${t.url}/api/v1/auth/cookie/logout`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${refreshed.accessToken}`,
        cookie: newCookie,
        'x-gatehouse-csrf': refreshed.csrfToken,
        'content-type': 'application/json',
      },
      body: '{}',
    });
    await out.body.dump();
    expect(out.statusCode).toBe(200);
    expect(cookiesOf(out.headers).some((c) => c.startsWith('gatehouse_refresh=;') && c.includes('Max-Age=0'))).toBe(true);
    const after = await call(t.url, 'POST', '/api/v1/auth/cookie/refresh', {
      headers: { cookie: newCookie, 'x-gatehouse-csrf': refreshed.csrfToken },
      body: {},
    });
    expect(after.status).toBe(401);
  });

  it('keeps bearer-token callers unchanged: /auth/login still answers the refresh token in the body', async () => {
    const login = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
    expect(login.status).toBe(200);
    expect(login.body.refreshToken).toMatch(/^ghr_/);
    const raw = await request(`${t.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    await raw.body.dump();
    expect(raw.headers['set-cookie']).toBeUndefined();
    // A bearer write needs no CSRF token (no cookie is involved).
    const created = await call(t.url, 'POST', '/api/v1/gateways', { token: login.body.accessToken, body: { name: 'bearer-gw', projectId: t.projectId } });
    expect(created.status).toBe(201);
  });

  it('accepts an invitation through the cookie route: the link opens the page, the account is signed in by cookie', async () => {
    const admin = await call(t.url, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
    const inv = await call(t.url, 'POST', '/api/v1/users/invitations', {
      token: admin.body.accessToken,
      body: { email: 'invitee@example.com', projectId: t.projectId, role: 'member' },
    });
    expect(inv.status).toBe(201);
    const link = new URL(inv.body.url as string);
    expect(link.pathname).toBe('/accept-invitation');
    const page = await get(link.pathname, { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="root">');
    const accepted = await request(`${t.url}/api/v1/auth/cookie/accept-invitation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: new URLSearchParams(link.hash.slice(1)).get('code'), password: 'invitee password 1' }),
    });
    const body = (await accepted.body.json()) as { user: { email: string }; refreshToken?: string };
    expect(accepted.statusCode).toBe(200);
    expect(body.user.email).toBe('invitee@example.com');
    expect(body.refreshToken).toBeUndefined();
    expect(cookiesOf(accepted.headers).some((c) => c.startsWith('gatehouse_refresh=') && c.includes('HttpOnly'))).toBe(true);
  });
});
