/**
 * A relay on a real HTTP server (127.0.0.1, port 0), real `ws` links and a real Mux at each
 * end. `RelayDeps` are plain in-memory functions: that is the seam the control plane fills.
 */
import { createServer, type Server } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { Mux } from '../../../../proxy-core/src/tunnel/mux.ts';
import { DIRECT_STREAMS_FEATURE, GATEWAY_FEATURES_HEADER, GATEWAY_STREAM_PATH, SESSION_STREAM_PATH } from '../../../../proxy-core/src/tunnel/direct-stream.ts';
import type { GatewayStreamMeta } from '../../../../proxy-core/src/tunnel/meta.ts';
import type { SessionEvent } from '../../../../proxy-core/src/recorder/events.ts';
import { Relay } from '../relay.ts';
import type { RelayDeps, RelayOptions } from '../types.ts';

export const SESSION_ID = 'sess-1';
export const GATEWAY_ID = 'gw-1';
export const GOOD_TOKEN = 'Bearer good-token';

export const SESSION_META: Omit<GatewayStreamMeta, 'kind' | 'connectionId' | 'clientAddress' | 'applicationName'> = {
  sessionId: SESSION_ID,
  target: {
    host: '127.0.0.1',
    port: 5432,
    database: 'shop',
    username: 'readonly',
    passwordSealed: 'ghseal1.sealed-db-secret',
    ssl: { enabled: false, rejectUnauthorized: false },
  },
  session: { expiresAt: '', userEmail: 'ann@example.com', accountName: 'readonly', resourceName: 'shop' },
  recording: { redactBindParams: true },
};

export interface Harness {
  relay: Relay;
  url: string;
  server: Server;
  stored: SessionEvent[];
  connected: Map<string, boolean>;
  /** Replace to make storeEvents slow or failing. */
  storeEvents: (events: SessionEvent[]) => Promise<void>;
  expiresAt: Date;
  close(): Promise<void>;
}

export async function startHarness(options: RelayOptions = {}): Promise<Harness> {
  const harness = {
    stored: [] as SessionEvent[],
    connected: new Map<string, boolean>(),
    expiresAt: new Date(Date.now() + 3600_000),
  } as Harness;
  harness.storeEvents = (events) => {
    harness.stored.push(...events);
    return Promise.resolve();
  };
  const deps: RelayDeps = {
    // The relay calls these with .then(): refusals are rejected promises, as from the real deps.
    authenticateGateway(headers: IncomingHttpHeaders) {
      const id = headers['x-gatehouse-gateway-id'];
      if (id !== GATEWAY_ID || headers['x-gatehouse-signature'] !== 'valid') {
        return Promise.reject(new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'gateway signature invalid'));
      }
      return Promise.resolve({ gatewayId: GATEWAY_ID });
    },
    authorizeTunnel(sessionId, authorization) {
      if (authorization !== GOOD_TOKEN) return Promise.reject(new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'sign in again'));
      if (sessionId === 'revoked') return Promise.reject(new GatehouseError(ErrorCodes.SESSION_REVOKED, 'the session was revoked'));
      if (sessionId !== SESSION_ID) return Promise.reject(new GatehouseError(ErrorCodes.NOT_FOUND, 'no such session'));
      const expiresAt = harness.expiresAt.toISOString();
      return Promise.resolve({ gatewayId: GATEWAY_ID, expiresAt, meta: { ...SESSION_META, session: { ...SESSION_META.session, expiresAt } } });
    },
    storeEvents: (gatewayId, events) => harness.storeEvents(events),
    setGatewayConnected(gatewayId, connected) {
      harness.connected.set(gatewayId, connected);
      return Promise.resolve();
    },
  };
  const relay = new Relay(deps, options);
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const tunnel = /^\/api\/v1\/sessions\/([^/]+)\/tunnel$/.exec(path);
    const clientStream = SESSION_STREAM_PATH.exec(path);
    const dialBack = GATEWAY_STREAM_PATH.exec(path);
    if (path === '/api/v1/gateways/link') void relay.handleGatewayLink(req, socket, head);
    else if (tunnel) void relay.handleSessionTunnel(req, socket, head, decodeURIComponent(tunnel[1]));
    else if (clientStream) relay.handleSessionStream(req, socket, head, decodeURIComponent(clientStream[1]));
    else if (dialBack) relay.handleGatewayStream(socket, head, dialBack[1]);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  harness.relay = relay;
  harness.server = server;
  harness.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  harness.close = async () => {
    await relay.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return harness;
}

export interface Peer {
  ws: WebSocket;
  mux: Mux;
  controls: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
}

function openPeer(url: string, headers: Record<string, string>): Promise<Peer> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  const controls: Array<Record<string, unknown>> = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      const mux = new Mux(ws, { initiator: true, heartbeatIntervalMs: 0 });
      mux.on('control', (msg) => controls.push(msg));
      resolve({ ws, mux, controls, closed });
    });
    ws.once('error', reject);
  });
}

/** A gateway link; `directStreams` says on the upgrade that it dials back (as the real gateway does). */
export function connectGateway(h: Harness, opts: { directStreams?: boolean } = {}): Promise<Peer> {
  return openPeer(`${h.url}/api/v1/gateways/link`, {
    'x-gatehouse-gateway-id': GATEWAY_ID,
    'x-gatehouse-signature': 'valid',
    ...(opts.directStreams && { [GATEWAY_FEATURES_HEADER]: DIRECT_STREAMS_FEATURE }),
  });
}

export function connectClient(h: Harness, sessionId = SESSION_ID, authorization = GOOD_TOKEN): Promise<Peer> {
  return openPeer(`${h.url}/api/v1/sessions/${sessionId}/tunnel`, { authorization });
}

/** The HTTP status and JSON body a refused upgrade gets. */
export function refusedUpgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
        ws.terminate();
      });
    });
    ws.on('open', () => reject(new Error('upgrade unexpectedly accepted')));
    ws.on('error', () => undefined);
  });
}

/** Resolves with the first `n` bytes (or more, as they came) the stream gives. */
export function readExactly(stream: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) {
        stream.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
