import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors.ts';
import { FrameType, INITIAL_WINDOW, MAX_DATA_PAYLOAD, decodeFrame, encodeFrame, encodeWindow } from './frames.ts';
import type { Mux } from './mux.ts';
import type { MuxStream } from './stream.ts';
import { startMuxPair, type MuxPair } from './test-pair.ts';

const MiB = 1024 * 1024;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pair(options?: Parameters<typeof startMuxPair>[0]): Promise<MuxPair> {
  const p = await startMuxPair(options);
  cleanups.push(() => p.close());
  // Streams left open when a test ends are destroyed with TUNNEL_CLOSED at cleanup; tests
  // that care about errors listen themselves.
  for (const mux of [p.client, p.server]) {
    mux.on('stream', (stream) => stream.on('error', () => {}));
    const open = mux.openStream.bind(mux);
    mux.openStream = (meta) => open(meta).on('error', () => {});
  }
  return p;
}

function collect(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** The server echoes every stream it accepts. */
function echo(mux: Mux): void {
  mux.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.pipe(stream);
  });
}

function errorOf(stream: Duplex): Promise<Error & { code?: string }> {
  return new Promise((resolve) => stream.once('error', resolve));
}

/** Writes `total` bytes of deterministic pseudo-random data; resolves with its sha256. */
async function writeBulk(stream: Duplex, total: number, chunkSize = 256 * 1024): Promise<string> {
  const hash = createHash('sha256');
  const block = randomBytes(4 * MiB);
  let written = 0;
  let i = 0;
  while (written < total) {
    const n = Math.min(chunkSize, total - written);
    const offset = (i++ * 7919) % (block.length - n);
    const chunk = block.subarray(offset, offset + n);
    hash.update(chunk);
    written += n;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  return hash.digest('hex');
}

function hashStream(stream: Duplex): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve({ sha256: hash.digest('hex'), bytes }));
    stream.once('error', reject);
  });
}

describe('Mux over a real WebSocket', () => {
  it('echoes 100 concurrent streams, each getting exactly its own bytes back', async () => {
    const { client, server } = await pair();
    echo(server);
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const stream = client.openStream({ kind: 'pg', clientAddress: `127.0.0.1:${i}` });
        const payload = randomBytes(50_000 + i * 997);
        const received = collect(stream);
        stream.end(payload);
        return (await received).equals(payload);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(client.streamCount).toBe(0);
    expect(server.streamCount).toBe(0);
  });

  it('passes the OPEN metadata and ids of the right parity', async () => {
    const { client, server } = await pair();
    const accepted = once(server, 'stream') as Promise<[MuxStream, unknown]>;
    const a = client.openStream({ kind: 'cancel' });
    const b = client.openStream({ kind: 'pg', clientAddress: '10.0.0.1:5000' });
    const [stream, meta] = await accepted;
    expect(meta).toEqual({ kind: 'cancel' });
    expect(stream.meta).toEqual({ kind: 'cancel' });
    expect([a.id % 2, b.id % 2]).toEqual([1, 1]);
    client.on('stream', (s) => s.on('error', () => {}));
    const fromServer = server.openStream({ kind: 'x' });
    expect(fromServer.id % 2).toBe(0);
  });

  it('moves 50 MB through one stream byte-exact', async () => {
    const { client, server } = await pair();
    const received = new Promise<{ sha256: string; bytes: number }>((resolve) => server.once('stream', (s) => resolve(hashStream(s))));
    const stream = client.openStream({ kind: 'pg', clientAddress: 'x' });
    const started = performance.now();
    const sent = await writeBulk(stream, 50 * MiB);
    const result = await received;
    const seconds = (performance.now() - started) / 1000;
    expect(result).toEqual({ sha256: sent, bytes: 50 * MiB });
    console.info(`50 MB through one stream: ${(50 / seconds).toFixed(0)} MB/s`);
  }, 60_000);

  it('a stalled reader on one stream does not stall 20 MB on another, and its writer holds at the window', async () => {
    const { client, server } = await pair();
    const accepted: MuxStream[] = [];
    server.on('stream', (s) => accepted.push(s));
    const stalled = client.openStream({ kind: 'stalled' });
    let stalledWritten = 0;
    const stalledChunk = Buffer.alloc(64 * 1024, 1);
    const writeStalled = () => {
      // write until backpressure, then again on each drain (which will not come)
      while (stalled.write(stalledChunk, () => (stalledWritten += stalledChunk.length)));
    };
    stalled.on('drain', writeStalled);
    writeStalled();

    const moving = client.openStream({ kind: 'moving' });
    await new Promise((r) => setTimeout(r, 50));
    const movingServer = accepted.find((s) => s.meta.kind === 'moving')!;
    const stalledServer = accepted.find((s) => s.meta.kind === 'stalled')!;
    const received = hashStream(movingServer);
    const sent = await writeBulk(moving, 20 * MiB);
    expect(await received).toEqual({ sha256: sent, bytes: 20 * MiB });

    // the stalled stream has delivered exactly one window and holds the rest at the writer
    expect(stalledServer.readableLength).toBe(INITIAL_WINDOW);
    expect(stalledWritten).toBeLessThanOrEqual(INITIAL_WINDOW);
    expect(stalled.writableLength).toBeGreaterThan(0);

    // once read, the stalled stream moves again
    const more = new Promise<number>((resolve) => {
      let n = 0;
      stalledServer.on('data', (c: Buffer) => {
        n += c.length;
        if (n > 3 * INITIAL_WINDOW) resolve(n);
      });
    });
    await expect(more).resolves.toBeGreaterThan(3 * INITIAL_WINDOW);
    stalled.removeAllListeners('drain');
    stalled.destroy();
  }, 60_000);

  it('half-closes both ways: each side still sends after the other ended', async () => {
    const { client, server } = await pair();
    const serverSide = new Promise<MuxStream>((resolve) => server.once('stream', resolve));
    const stream = client.openStream({ kind: 'pg', clientAddress: 'x' });
    stream.end('request');
    const s = await serverSide;
    const closed = Promise.all([once(stream, 'close'), once(s, 'close')]);
    expect((await collect(s)).toString()).toBe('request');
    expect(s.writable).toBe(true);
    const reply = collect(stream);
    s.write('reply-1 ');
    await new Promise((r) => setTimeout(r, 20));
    s.end('reply-2');
    expect((await reply).toString()).toBe('reply-1 reply-2');
    await closed;
    expect(client.streamCount + server.streamCount).toBe(0);
  });

  it('a RST on one stream reaches the peer with its code and leaves other streams working', async () => {
    const { client, server } = await pair();
    const accepted: MuxStream[] = [];
    server.on('stream', (s) => {
      accepted.push(s);
      if (s.meta.kind === 'echo') s.pipe(s);
    });
    const doomed = client.openStream({ kind: 'doomed' });
    const survivor = client.openStream({ kind: 'echo' });
    await new Promise((r) => setTimeout(r, 20));
    const doomedServer = accepted.find((s) => s.meta.kind === 'doomed')!;
    const seen = errorOf(doomedServer);
    doomed.reset(ErrorCodes.SESSION_REVOKED, 'session revoked');
    const err = await seen;
    expect(err).toMatchObject({ code: ErrorCodes.SESSION_REVOKED, message: 'session revoked' });
    expect(doomed.destroyed).toBe(true);
    const back = collect(survivor);
    survivor.end('still here');
    expect((await back).toString()).toBe('still here');
  });

  it('an unknown peer RST code still arrives as TUNNEL_CLOSED', async () => {
    const { client, server } = await pair();
    const serverSide = new Promise<MuxStream>((resolve) => server.once('stream', resolve));
    const stream = client.openStream({ kind: 'x' });
    const s = await serverSide;
    const seen = errorOf(stream);
    s.reset('SOMETHING_ELSE', 'nope');
    expect(await seen).toMatchObject({ code: ErrorCodes.TUNNEL_CLOSED, message: 'nope' });
  });

  it('when the WebSocket drops, every stream on both sides is destroyed with TUNNEL_CLOSED', async () => {
    const { client, server, clientWs } = await pair();
    const serverErrors: Promise<Error & { code?: string }>[] = [];
    server.on('stream', (s) => serverErrors.push(errorOf(s)));
    const streams = Array.from({ length: 5 }, () => client.openStream({ kind: 'x' }));
    const clientErrors = streams.map(errorOf);
    for (const s of streams) s.write('hello');
    await new Promise((r) => setTimeout(r, 30));
    expect(serverErrors).toHaveLength(5);
    const closed = once(server, 'close');
    clientWs.terminate();
    const errors = [...(await Promise.all(clientErrors)), ...(await Promise.all(serverErrors))];
    expect(errors.map((e) => e.code)).toEqual(Array(10).fill(ErrorCodes.TUNNEL_CLOSED));
    expect(((await closed)[0] as { code: string }).code).toBe(ErrorCodes.TUNNEL_CLOSED);
    expect(server.closed && client.closed).toBe(true);
    // a stream opened afterwards errors instead of hanging
    const late = client.openStream({ kind: 'x' });
    expect((await errorOf(late)).code).toBe(ErrorCodes.TUNNEL_CLOSED);
  });

  it('close() is idempotent and destroys streams at once', async () => {
    const { client, server } = await pair();
    server.on('stream', (s) => s.on('error', () => {}));
    const s = client.openStream({ kind: 'x' });
    const err = errorOf(s);
    const first = client.close();
    const second = client.close();
    expect((await err).code).toBe(ErrorCodes.TUNNEL_CLOSED);
    await Promise.all([first, second]);
    await client.close();
  });

  it('carries control messages both ways', async () => {
    const { client, server } = await pair();
    const atServer = once(server, 'control');
    client.sendControl({ type: 'events', events: [{ seq: 1 }] });
    expect((await atServer)[0]).toEqual({ type: 'events', events: [{ seq: 1 }] });
    const atClient = once(client, 'control');
    server.sendControl({ type: 'ack', seq: 1 });
    expect((await atClient)[0]).toEqual({ type: 'ack', seq: 1 });
  });

  it('keeps link-level buffering near the high-water mark while the peer does not read the socket', async () => {
    const highWaterMark = 256 * 1024;
    const { client, server, clientWs, serverWs } = await pair({ highWaterMark, lowWaterMark: 64 * 1024 });
    const results: Promise<{ sha256: string; bytes: number }>[] = [];
    server.on('stream', (s) => results.push(hashStream(s)));
    const socket = (serverWs as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    let maxBuffered = 0;
    const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, clientWs.bufferedAmount)), 1);
    const streams = Array.from({ length: 8 }, () => client.openStream({ kind: 'bulk' }));
    const sent = Promise.all(streams.map((s) => writeBulk(s, 4 * MiB)));
    await new Promise((r) => setTimeout(r, 300));
    const bufferedWhilePaused = clientWs.bufferedAmount;
    socket.resume();
    const hashes = await sent;
    const received = await Promise.all(results);
    clearInterval(sampler);
    expect(received.map((r) => r.sha256).sort()).toEqual([...hashes].sort());
    expect(bufferedWhilePaused).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(highWaterMark + 2 * (MAX_DATA_PAYLOAD + 64));
  }, 30_000);
});

describe('Mux heartbeat', () => {
  it('closes a link whose peer stops answering pings, destroying its streams', async () => {
    const { startWsServer, connectClient } = await import('./test-pair.ts');
    const { Mux } = await import('./mux.ts');
    const wss = await startWsServer();
    cleanups.push(() => wss.close());
    const serverSocket = wss.nextServerSocket();
    const silent = await connectClient(wss.url, { autoPong: false });
    const mux = new Mux(await serverSocket, { initiator: false, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 100 });
    const stream = mux.openStream({ kind: 'x' });
    const err = errorOf(stream);
    const [closeError] = (await once(mux, 'close')) as [{ code: string; message: string }];
    expect(closeError).toMatchObject({ code: ErrorCodes.TUNNEL_CLOSED, message: 'tunnel heartbeat timed out' });
    expect((await err).code).toBe(ErrorCodes.TUNNEL_CLOSED);
    silent.terminate();
  });

  it('keeps a link whose peer answers', async () => {
    const { client, server } = await pair({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60 });
    await new Promise((r) => setTimeout(r, 300));
    expect(client.closed || server.closed).toBe(false);
  });
});

export { FrameType, encodeFrame, encodeWindow, decodeFrame };
