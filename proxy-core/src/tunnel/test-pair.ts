/** Test helper (not a test): a real `ws` server and client on 127.0.0.1, port 0. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { Mux, type MuxOptions } from './mux.ts';

export interface WsPair {
  url: string;
  server: WebSocketServer;
  /** Resolves with the server side of the next connection. */
  nextServerSocket(): Promise<WebSocket>;
  close(): Promise<void>;
}

export async function startWsServer(): Promise<WsPair> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    async nextServerSocket() {
      const [ws] = (await once(server, 'connection')) as [WebSocket];
      return ws;
    },
    async close() {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function connectClient(url: string, options: { autoPong?: boolean } = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, autoPong: options.autoPong ?? true });
  await once(ws, 'open');
  return ws;
}

export interface MuxPair {
  client: Mux;
  server: Mux;
  clientWs: WebSocket;
  serverWs: WebSocket;
  close(): Promise<void>;
}

/** A connected client Mux (initiator) and server Mux over a real WebSocket. */
export async function startMuxPair(options: Omit<MuxOptions, 'initiator'> = {}): Promise<MuxPair> {
  const wss = await startWsServer();
  const serverSocket = wss.nextServerSocket();
  const clientWs = await connectClient(wss.url);
  const serverWs = await serverSocket;
  const client = new Mux(clientWs, { ...options, initiator: true });
  const server = new Mux(serverWs, { ...options, initiator: false });
  return {
    client,
    server,
    clientWs,
    serverWs,
    async close() {
      await Promise.all([client.close(), server.close()]);
      await wss.close();
    },
  };
}
