/**
 * Test fixture: a TCP tee in front of a real PostgreSQL that records both directions, in
 * arrival order, from the end of the client's StartupMessage on (what the gateway feeds the
 * recorder after authentication; password messages and the server's startup reply are in
 * the capture and must be ignored by the recorder).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { readStartupPacket } from '../protocol/startup.ts';

export interface CapturedChunk {
  dir: 'client' | 'server';
  data: Buffer;
  /** Milliseconds (performance.now) when the tee saw it. */
  t: number;
}

export interface Tee {
  port: number;
  /** Chunks of all connections so far, in arrival order. */
  chunks: CapturedChunk[];
  close(): Promise<void>;
}

export async function startTee(target: { host: string; port: number }): Promise<Tee> {
  const chunks: CapturedChunk[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let startup: Buffer | undefined = Buffer.alloc(0);
    client.on('data', (data: Buffer) => {
      upstream.write(data);
      if (startup !== undefined) {
        startup = Buffer.concat([startup, data]);
        const packet = readStartupPacket(startup);
        if (!packet) return;
        data = packet.rest;
        startup = undefined;
        if (data.length === 0) return;
      }
      chunks.push({ dir: 'client', data: Buffer.from(data), t: performance.now() });
    });
    upstream.on('data', (data: Buffer) => {
      chunks.push({ dir: 'server', data: Buffer.from(data), t: performance.now() });
      client.write(data);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    chunks,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
