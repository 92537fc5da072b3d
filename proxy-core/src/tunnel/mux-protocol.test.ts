/** A misbehaving peer (a raw WebSocket speaking frames by hand) against a real Mux. */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { ErrorCodes } from '../errors.ts';
import { FrameType, INITIAL_WINDOW, MAX_DATA_PAYLOAD, decodeFrame, encodeFrame, parseReset, type Frame } from './frames.ts';
import { CLOSE_PROTOCOL_ERROR, Mux } from './mux.ts';
import type { MuxStream } from './stream.ts';
import { connectClient, startWsServer } from './test-pair.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface RawPeer {
  ws: WebSocket;
  mux: Mux;
  accepted: MuxStream[];
  frames: Frame[];
  waitFor(predicate: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
}

/** A Mux server whose 'echo' streams echo and whose other streams never read; a raw client. */
async function rawPeer(): Promise<RawPeer> {
  const wss = await startWsServer();
  const serverSocket = wss.nextServerSocket();
  const ws = await connectClient(wss.url);
  const mux = new Mux(await serverSocket, { initiator: false });
  const accepted: MuxStream[] = [];
  mux.on('stream', (stream) => {
    accepted.push(stream);
    stream.on('error', () => {});
    if (stream.meta.kind === 'echo') stream.pipe(stream);
  });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    frames.push(decodeFrame(data));
    for (const w of [...waiters]) w();
  });
  cleanups.push(async () => {
    ws.terminate();
    await mux.close();
    await wss.close();
  });
  const waitFor = (predicate: (f: Frame) => boolean, timeoutMs = 2000) =>
    new Promise<Frame>((resolve, reject) => {
      const check = () => {
        const found = frames.find(predicate);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error('timed out waiting for a frame'));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { ws, mux, accepted, frames, waitFor };
}

const open = (id: number, kind: string) => encodeFrame(FrameType.OPEN, id, JSON.stringify({ kind }));
const data = (id: number, bytes: Buffer | string) => encodeFrame(FrameType.DATA, id, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
const isReset = (id: number) => (f: Frame) => f.type === FrameType.RST && f.streamId === id;

/** Sends "ping" on an echo stream and waits for it to come back. */
async function echoWorks(peer: RawPeer, id: number): Promise<boolean> {
  peer.ws.send(open(id, 'echo'));
  peer.ws.send(data(id, 'ping'));
  const back = await peer.waitFor((f) => f.type === FrameType.DATA && f.streamId === id);
  return back.payload.toString() === 'ping';
}

describe('Mux against a misbehaving peer', () => {
  it('closes the link (1002) on a frame too short to have a header', async () => {
    const peer = await rawPeer();
    const closed = once(peer.ws, 'close');
    const muxClosed = once(peer.mux, 'close');
    peer.ws.send(Buffer.from([2, 0, 0]));
    expect((await closed)[0]).toBe(CLOSE_PROTOCOL_ERROR);
    expect(((await muxClosed)[0] as { code: string }).code).toBe(ErrorCodes.TUNNEL_CLOSED);
  });

  it('an unknown frame type costs only its stream', async () => {
    const peer = await rawPeer();
    peer.ws.send(open(1, 'sink'));
    peer.ws.send(encodeFrame(9 as never, 1, Buffer.from('?')));
    const rst = await peer.waitFor(isReset(1));
    expect(parseReset(rst.payload).code).toBe(ErrorCodes.PROTOCOL);
    expect(peer.accepted[0].destroyed).toBe(true);
    expect(await echoWorks(peer, 3)).toBe(true);
  });

  it('DATA beyond credit resets that stream only; what was buffered never exceeds the window', async () => {
    const peer = await rawPeer();
    peer.ws.send(open(1, 'sink'));
    peer.ws.send(open(5, 'sink'));
    const chunk = randomBytes(MAX_DATA_PAYLOAD);
    let maxBuffered = 0;
    for (let sent = 0; sent <= INITIAL_WINDOW; sent += chunk.length) peer.ws.send(data(1, chunk));
    // stream 5 stays within its credit
    peer.ws.send(data(5, chunk));
    const rst = await peer.waitFor(isReset(1));
    for (const s of peer.accepted) maxBuffered = Math.max(maxBuffered, s.readableLength);
    expect(parseReset(rst.payload)).toMatchObject({ code: ErrorCodes.PROTOCOL });
    expect(parseReset(rst.payload).message).toMatch(/credit/);
    expect(maxBuffered).toBeLessThanOrEqual(INITIAL_WINDOW);
    const [one, five] = peer.accepted;
    expect(one.destroyed).toBe(true);
    expect(five.destroyed).toBe(false);
    expect(five.readableLength).toBe(chunk.length);
    expect(await echoWorks(peer, 3)).toBe(true);
  });

  it('answers DATA and FIN for unknown streams with RST, and ignores WINDOW/RST for them', async () => {
    const peer = await rawPeer();
    peer.ws.send(data(41, 'x'));
    expect(parseReset((await peer.waitFor(isReset(41))).payload).code).toBe(ErrorCodes.TUNNEL_CLOSED);
    peer.ws.send(encodeFrame(FrameType.FIN, 43));
    await peer.waitFor(isReset(43));
    peer.ws.send(encodeFrame(FrameType.WINDOW, 45, Buffer.from([0, 0, 1, 0])));
    peer.ws.send(encodeFrame(FrameType.RST, 47, '{}'));
    expect(await echoWorks(peer, 1)).toBe(true);
    expect(peer.frames.filter((f) => f.streamId === 45 || f.streamId === 47)).toEqual([]);
  });

  it('refuses OPEN with the wrong parity, bad JSON, or for an id already open', async () => {
    const peer = await rawPeer();
    peer.ws.send(open(2, 'echo'));
    expect(parseReset((await peer.waitFor(isReset(2))).payload).code).toBe(ErrorCodes.PROTOCOL);
    peer.ws.send(encodeFrame(FrameType.OPEN, 3, 'not json'));
    expect(parseReset((await peer.waitFor(isReset(3))).payload).code).toBe(ErrorCodes.PROTOCOL);
    peer.ws.send(open(5, 'sink'));
    peer.ws.send(open(5, 'sink'));
    expect(parseReset((await peer.waitFor(isReset(5))).payload).code).toBe(ErrorCodes.PROTOCOL);
    expect(await echoWorks(peer, 7)).toBe(true);
    expect(peer.accepted.map((s) => s.id)).toEqual([5, 7]);
  });

  it('survives 5000 random well-headed frames and still serves a fresh stream', async () => {
    const peer = await rawPeer();
    for (let i = 0; i < 5000; i++) {
      const frame = randomBytes(5 + Math.floor(Math.random() * 200));
      frame[0] = Math.floor(Math.random() * 8);
      frame.writeUInt32BE(1 + Math.floor(Math.random() * 40), 1);
      peer.ws.send(frame);
    }
    expect(await echoWorks(peer, 1001)).toBe(true);
    expect(peer.mux.closed).toBe(false);
  });

  it('survives completely random messages (the link may close, the process does not crash)', async () => {
    const peer = await rawPeer();
    for (let i = 0; i < 2000 && peer.ws.readyState === peer.ws.OPEN; i++) {
      peer.ws.send(randomBytes(Math.floor(Math.random() * 64)));
    }
    peer.ws.send('{"not": "a control message"}');
    peer.ws.send('garbage');
    const [code] = peer.ws.readyState === peer.ws.CLOSED ? [CLOSE_PROTOCOL_ERROR] : await once(peer.ws, 'close');
    // some of those messages are shorter than a header: the link closes, nothing else happens
    expect(code).toBe(CLOSE_PROTOCOL_ERROR);
    expect(peer.mux.closed).toBe(true);
    expect(peer.mux.streamCount).toBe(0);
  });
});

describe('Mux stream limit', () => {
  it('refuses OPEN beyond maxStreams and accepts again once a stream is gone', async () => {
    const wss = await startWsServer();
    const serverSocket = wss.nextServerSocket();
    const ws = await connectClient(wss.url);
    const mux = new Mux(await serverSocket, { initiator: false, maxStreams: 2 });
    cleanups.push(async () => {
      ws.terminate();
      await mux.close();
      await wss.close();
    });
    const accepted: MuxStream[] = [];
    mux.on('stream', (s) => accepted.push(s.on('error', () => {})));
    const resets: Frame[] = [];
    ws.on('message', (d: Buffer) => resets.push(decodeFrame(d)));
    for (const id of [1, 3, 5]) ws.send(open(id, 'sink'));
    await new Promise((r) => setTimeout(r, 50));
    expect(accepted.map((s) => s.id)).toEqual([1, 3]);
    expect(resets.filter((f) => f.type === FrameType.RST).map((f) => f.streamId)).toEqual([5]);
    ws.send(encodeFrame(FrameType.RST, 1, JSON.stringify({ code: ErrorCodes.TUNNEL_CLOSED, message: 'bye' })));
    ws.send(open(7, 'sink'));
    await new Promise((r) => setTimeout(r, 50));
    expect(accepted.map((s) => s.id)).toEqual([1, 3, 7]);
  });
});
