/**
 * Serves the web console on the API's origin: built files from the console directory
 * (hashed assets cached for a year, the page never), and the page itself for every other
 * GET that asks for HTML outside the API (`/gateways`, `/accept-invitation#code=…`), so
 * that links into the single-page app work. Everything else is left to the API.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { CONSOLE_HTML, DEFAULT_CONSOLE_DIR, ensureConsoleBuilt } from './build.ts';
import { setSecurityHeaders } from './security-headers.ts';

const log = createLogger('console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json']);
/** Paths that always belong to the API, whatever the Accept header says. */
const API_PREFIXES = ['/api/', '/healthz', '/metrics'];

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

export interface ConsoleOptions {
  /** A built console to serve as is (GATEHOUSE_CONSOLE_DIR); unset: the checkout's, built on demand. */
  dir?: string;
}

export interface ConsoleHandler {
  /** Answers the request and returns true when it is the console's; false leaves it to the API. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Loads (building first when needed) the console; the demo calls it before printing the URL. */
  warm(): Promise<void>;
}

export function createConsoleHandler(options: ConsoleOptions = {}): ConsoleHandler {
  let loading: Promise<Map<string, Asset>> | undefined;
  const load = () => {
    loading ??= (async () => {
      const dir = options.dir ?? DEFAULT_CONSOLE_DIR;
      if (options.dir === undefined) await ensureConsoleBuilt(dir);
      return readAssets(dir);
    })();
    loading.catch(() => {
      loading = undefined; // try again on the next request (e.g. after npm install)
    });
    return loading;
  };

  return {
    warm: async () => {
      await load();
    },
    async handle(req, res) {
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') return false;
      const pathname = safePathname(req.url);
      if (pathname === undefined || API_PREFIXES.some((p) => pathname === p.replace(/\/$/, '') || pathname.startsWith(p))) return false;
      const isAssetPath = pathname.startsWith('/assets/') || pathname === '/favicon.ico';
      const wantsPage = (req.headers.accept ?? '').includes('text/html');
      if (!isAssetPath && !wantsPage) return false;

      let assets: Map<string, Asset>;
      try {
        assets = await load();
      } catch (err) {
        log.error({ err }, 'the web console is not available');
        sendText(res, 503, `The Gatehouse web console is not available: ${(err as Error).message}\n`);
        return true;
      }
      const asset = isAssetPath ? assets.get(pathname) : assets.get(`/${CONSOLE_HTML}`);
      if (!asset) {
        if (isAssetPath) sendText(res, 404, 'not found\n');
        else sendText(res, 503, 'The Gatehouse web console build has no page.\n');
        return true;
      }
      sendAsset(req, res, asset, method === 'HEAD');
      return true;
    },
  };
}

async function readAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.vite') await walk(full);
        continue;
      }
      const ext = extname(entry.name);
      const type = TYPES[ext];
      if (!type) continue;
      const body = await readFile(full);
      const urlPath = `/${relative(dir, full).split(sep).join('/')}`;
      assets.set(urlPath, {
        body,
        gzip: COMPRESSIBLE.has(ext) ? gzipSync(body, { level: 9 }) : undefined,
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        immutable: urlPath.startsWith('/assets/'),
      });
    }
  };
  await walk(dir);
  return assets;
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset, headOnly: boolean): void {
  res.setHeader('content-type', asset.type);
  res.setHeader('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-store');
  res.setHeader('etag', asset.etag);
  res.setHeader('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === asset.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? asset.gzip : undefined;
  const body = gzip ?? asset.body;
  if (gzip) res.setHeader('content-encoding', 'gzip');
  res.setHeader('content-length', body.length);
  res.statusCode = 200;
  res.end(headOnly ? undefined : body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(text);
}

function safePathname(url: string | undefined): string | undefined {
  try {
    const pathname = decodeURIComponent(new URL(url ?? '/', 'http://localhost').pathname);
    return pathname.includes('..') || pathname.includes('\0') ? undefined : pathname;
  } catch {
    return undefined;
  }
}

/**
 * The server's request listener: security headers on every response, the console's pages and
 * assets from `webConsole`, everything else to the API's handler.
 */
export function withConsole(
  api: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: ConsoleOptions & { https: boolean },
): (req: IncomingMessage, res: ServerResponse) => void {
  const webConsole = createConsoleHandler(options);
  return (req, res) => {
    setSecurityHeaders(res, 'page', options.https);
    void webConsole.handle(req, res).then(
      (served) => {
        if (served) return;
        setSecurityHeaders(res, 'api', options.https);
        return api(req, res);
      },
      () => api(req, res),
    );
  };
}
