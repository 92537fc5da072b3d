/**
 * TEST ONLY. Serves the built renderer and carries the same typed IPC contract over a
 * WebSocket, so a real Chromium can drive the real main-process services without Electron.
 * Open `<url>/?bridge=<wsUrl>`. Listens on 127.0.0.1 only.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { rawDataToBuffer } from '../../proxy-core/src/tunnel/raw-data.ts';
import { EVENTS } from './contract.ts';
import type { IpcHandlers } from './handlers.ts';
import type { BridgeMessage, BridgeRequest } from './ws-protocol.ts';

export interface TestBridge {
  /** The page to open (already carries `?bridge=`). */
  pageUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

export async function startTestBridge(opts: { handlers: IpcHandlers; staticDir: string }): Promise<TestBridge> {
  const server = createServer((req, res) => void serveStatic(opts.staticDir, req, res));
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ipc') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, opts.handlers));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const wsUrl = `ws://127.0.0.1:${port}/ipc`;
  return {
    wsUrl,
    pageUrl: `http://127.0.0.1:${port}/?bridge=${encodeURIComponent(wsUrl)}`,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function attach(ws: WebSocket, handlers: IpcHandlers): void {
  const send = (msg: BridgeMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  const cleanups = EVENTS.map((event) => handlers.subscribe(event, (payload) => send({ type: 'event', event, payload })));
  ws.on('close', () => {
    for (const cleanup of cleanups) cleanup();
  });
  ws.on('message', (data) => {
    let req: BridgeRequest;
    try {
      req = JSON.parse(rawDataToBuffer(data).toString('utf8')) as BridgeRequest;
    } catch {
      return ws.close(1003, 'not JSON');
    }
    if (req?.type !== 'invoke' || typeof req.id !== 'number') return ws.close(1003, 'bad request');
    void handlers.invoke(req.channel, req.args).then((envelope) => send({ type: 'result', id: req.id, envelope }));
  });
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  let file = normalize(join(root, pathname));
  if (!file.startsWith(normalize(root) + sep) && file !== normalize(root)) {
    res.writeHead(403).end();
    return;
  }
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    await stat(file);
  } catch {
    file = join(root, 'index.html');
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}
