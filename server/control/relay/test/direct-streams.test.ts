/**
 * Direct streams through a real relay on a real HTTP server: a client's upgrade waits for the
 * gateway's dial-back, both get 101 and the relay splices the sockets (docs/architecture.md,
 * "Direct streams"). The gateway here is a link peer that dials back with the real dialer.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../../proxy-core/src/errors.ts';
import {
  STREAM_KEY_HEADER,
  STREAM_META_HEADER,
  dialDirectStream,
  encodeStreamMeta,
  gatewayStreamPath,
  sessionStreamPath,
} from '../../../../proxy-core/src/tunnel/direct-stream.ts';
import type { GatewayStreamMeta } from '../../../../proxy-core/src/tunnel/meta.ts';
import { GATEWAY_ID, SESSION_ID, connectClient, connectGateway, readExactly, startHarness, until, type Harness, type Peer } from './harness.ts';

let h: Harness;
let http: string;
const peers: Peer[] = [];
const sockets: Socket[] = [];

beforeEach(async () => {
  h = await startHarness({ endGraceMs: 50, dialTimeoutMs: 400 });
  http = h.url.replace(/^ws:/, 'http:');
});
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  for (const s of sockets.splice(0)) s.destroy();
  await h.close();
});

interface Dial {
  type: 'dial';
  token: string;
  url?: string;
  meta: GatewayStreamMeta;
}

/** A gateway link peer that dials back every `dial` and hands the socket to `serve` (or refuses). */
async function gateway(
  serve: (socket: Socket, dial: Dial) => void,
  opts: { directStreams?: boolean; answer?: 'dial' | 'refuse' | 'ignore' } = {},
): Promise<Peer> {
  const gw = await connectGateway(h, { directStreams: opts.directStreams ?? true });
  peers.push(gw);
  gw.mux.on('control', (msg) => {
    if (msg.type !== 'dial') return;
    const dial = msg as unknown as Dial;
    if (opts.answer === 'ignore') return;
    if (opts.answer === 'refuse') {
      gw.mux.sendControl({ type: 'dial-refused', token: dial.token, code: ErrorCodes.RATE_LIMITED, message: 'too many connections on this session (limit 1)' });
      return;
    }
    void dialDirectStream(`${http}${gatewayStreamPath(dial.token)}`, { headers: {}, timeoutMs: 2000 }).then((socket) => {
      sockets.push(socket);
      serve(socket, dial);
    });
  });
  await until(() => h.relay.isGatewayConnected(GATEWAY_ID));
  return gw;
}

/** A client tunnel and the stream key it was given. */
async function tunnel(): Promise<{ peer: Peer; key: string }> {
  const peer = await connectClient(h);
  peers.push(peer);
  await until(() => peer.controls.some((c) => c.type === 'direct-streams'));
  const key = peer.controls.find((c) => c.type === 'direct-streams')!.key as string;
  return { peer, key };
}

function openDirect(key: string, meta: object = { kind: 'pg', clientAddress: '127.0.0.1:50000', applicationName: 'psql' }): Promise<Socket> {
  return dialDirectStream(`${http}${sessionStreamPath(SESSION_ID)}`, {
    headers: { [STREAM_KEY_HEADER]: key, [STREAM_META_HEADER]: encodeStreamMeta(meta) },
    timeoutMs: 3000,
  }).then((socket) => {
    sockets.push(socket);
    return socket;
  });
}

const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('direct streams', () => {
  it('pairs the client with the gateway dial-back and relays 5 MB each way byte-exact; the meta (sealed password) goes to the gateway only', async () => {
    const dials: Dial[] = [];
    await gateway((socket, dial) => {
      dials.push(dial);
      socket.pipe(socket); // echo
    });
    const { key } = await tunnel();
    const socket = await openDirect(key);
    const payload = randomBytes(5 * 1024 * 1024 + 17);
    const echoed = readExactly(socket, payload.length);
    socket.write(payload);
    expect((await echoed).equals(payload)).toBe(true);
    expect(dials).toHaveLength(1);
    expect(dials[0].meta).toMatchObject({ kind: 'pg', sessionId: SESSION_ID, clientAddress: '127.0.0.1:50000', applicationName: 'psql' });
    expect(dials[0].meta.target.passwordSealed).toBe('ghseal1.sealed-db-secret');
    expect(dials[0].token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const stats = h.relay.stats();
    expect(stats).toMatchObject({ directStreams: 1, streamsOpen: 1, bytesClientToGateway: payload.length, bytesGatewayToClient: payload.length });
    socket.end();
    await until(() => h.relay.stats().directStreams === 0);
    expect(h.relay.stats().streamsOpen).toBe(0);
  });

  it('a stream key this replica does not know, a gateway that does not dial back (old version), and a dial-back timeout all say DIRECT_STREAM_UNAVAILABLE (use the tunnel)', async () => {
    const { key } = await tunnel();
    // no gateway linked at all: the same refusal as on a tunnel stream
    await expect(openDirect(key)).rejects.toMatchObject({ code: ErrorCodes.GATEWAY_UNAVAILABLE });
    await expect(openDirect('x'.repeat(32))).rejects.toMatchObject({ code: ErrorCodes.DIRECT_STREAM_UNAVAILABLE });
    const old = await gateway(() => undefined, { directStreams: false });
    await expect(openDirect(key)).rejects.toMatchObject({ code: ErrorCodes.DIRECT_STREAM_UNAVAILABLE, message: /does not dial back/ });
    old.ws.terminate();
    await until(() => !h.relay.isGatewayConnected(GATEWAY_ID));
    await gateway(() => undefined, { answer: 'ignore' });
    const started = Date.now();
    await expect(openDirect(key)).rejects.toMatchObject({ code: ErrorCodes.DIRECT_STREAM_UNAVAILABLE, message: /did not dial back in time/ });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(h.relay.stats().streamsRefused).toBeGreaterThanOrEqual(3);
  });

  it("the gateway's refusal reaches the client with its code; invalid meta is refused before the gateway is asked", async () => {
    await gateway(() => undefined, { answer: 'refuse' });
    const { key } = await tunnel();
    await expect(openDirect(key)).rejects.toMatchObject({ code: ErrorCodes.RATE_LIMITED, message: 'too many connections on this session (limit 1)' });
    await expect(openDirect(key, { kind: 'shell' })).rejects.toMatchObject({ code: ErrorCodes.PROTOCOL });
  });

  it('a dial-back token works once; an unknown one is refused', async () => {
    let token = '';
    await gateway((socket, dial) => {
      token = dial.token;
      socket.pipe(socket);
    });
    const { key } = await tunnel();
    await openDirect(key);
    await expect(dialDirectStream(`${http}${gatewayStreamPath(token)}`, { headers: {}, timeoutMs: 2000 })).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
    });
    await expect(dialDirectStream(`${http}${gatewayStreamPath('A'.repeat(32))}`, { headers: {}, timeoutMs: 2000 })).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
    });
  });

  it('a revoked session loses its open direct streams (after the grace for the goodbye); new ones are refused; the gateway is told', async () => {
    const gw = await gateway((socket) => socket.pipe(socket));
    const { key } = await tunnel();
    const socket = await openDirect(key);
    expect(
      (
        await (async () => {
          const r = readExactly(socket, 5);
          socket.write('hello');
          return r;
        })()
      ).toString(),
    ).toBe('hello');
    h.relay.endSession(SESSION_ID, 'revoked');
    await closed(socket);
    await until(() => h.relay.stats().directStreams === 0);
    await until(() => gw.controls.some((c) => c.type === 'session-ended' && c.sessionId === SESSION_ID && c.reason === 'revoked'));
    await expect(openDirect(key)).rejects.toMatchObject({ code: expect.stringMatching(/SESSION_REVOKED|DIRECT_STREAM_UNAVAILABLE/) });
  });

  it('per-stream flow control: a client that stops reading holds up only its own stream, and the relay stops reading for it', async () => {
    const served: Socket[] = [];
    await gateway((socket) => served.push(socket));
    const { key } = await tunnel();
    const slow = await openDirect(key);
    slow.pause(); // never reads
    await until(() => served.length === 1);
    const fast = await openDirect(key);
    await until(() => served.length === 2);
    const [toSlow, toFast] = served;
    toFast.pipe(toFast); // echo
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 64; i++) toSlow.write(chunk);
    // the other stream answers at once while 64 MB wait for the slow reader
    for (let i = 0; i < 5; i++) {
      const echoed = readExactly(fast, 4);
      fast.write('ping');
      expect((await echoed).toString()).toBe('ping');
    }
    // the relay paused its read of the slow stream: most of the 64 MB still waits in the gateway's socket
    await new Promise((r) => setTimeout(r, 200));
    expect(toSlow.writableLength).toBeGreaterThan(32 * 1024 * 1024);
  });

  it('a direct stream outlives its tunnel (a socket of its own) and ends at the session expiry', async () => {
    await gateway((socket) => socket.pipe(socket));
    h.expiresAt = new Date(Date.now() + 1500);
    const { peer, key } = await tunnel();
    const socket = await openDirect(key);
    peer.ws.terminate();
    await until(() => h.relay.stats().tunnels === 0);
    const echoed = readExactly(socket, 4);
    socket.write('ping');
    expect((await echoed).toString()).toBe('ping');
    await closed(socket);
    expect(Date.now()).toBeGreaterThanOrEqual(h.expiresAt.getTime());
  });
});
