/**
 * Micro-benchmark of the tunnel (not a test): MB/s through one MuxStream and the round-trip
 * time of a 1 KB ping-pong, over a real `ws` link on 127.0.0.1 (both ends in this process).
 *   node --import tsx proxy-core/src/tunnel/bench-mux.ts [megabytes=200] [pings=2000]
 */
import { once } from 'node:events';
import type { MuxStream } from './stream.ts';
import { startMuxPair } from './test-pair.ts';

const megabytes = Number(process.argv[2] ?? 200);
const pings = Number(process.argv[3] ?? 2000);

async function benchPair() {
  const pair = await startMuxPair({ heartbeatIntervalMs: 0 });
  // streams still open when the pair closes are destroyed with TUNNEL_CLOSED: expected here
  pair.server.on('stream', (stream: MuxStream) => stream.on('error', () => {}));
  return pair;
}

async function throughput(): Promise<number> {
  const pair = await benchPair();
  const total = megabytes * 1024 * 1024;
  const received = new Promise<void>((resolve) => {
    pair.server.once('stream', (stream: MuxStream) => {
      let n = 0;
      stream.on('data', (chunk: Buffer) => {
        n += chunk.length;
        if (n >= total) resolve();
      });
    });
  });
  const stream = pair.client.openStream({ kind: 'bench' }).on('error', () => {});
  const chunk = Buffer.alloc(256 * 1024, 7);
  const started = performance.now();
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  await received;
  const seconds = (performance.now() - started) / 1000;
  await pair.close();
  return megabytes / seconds;
}

async function pingPong(): Promise<number[]> {
  const pair = await benchPair();
  pair.server.on('stream', (stream: MuxStream) => stream.pipe(stream));
  const stream = pair.client.openStream({ kind: 'bench' }).on('error', () => {});
  const ping = Buffer.alloc(1024, 1);
  const times: number[] = [];
  for (let i = 0; i < pings; i++) {
    const started = process.hrtime.bigint();
    let got = 0;
    const back = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        got += chunk.length;
        if (got >= ping.length) {
          stream.off('data', onData);
          resolve();
        }
      };
      stream.on('data', onData);
    });
    stream.write(ping);
    await back;
    times.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  await pair.close();
  return times.sort((a, b) => a - b);
}

const mbps = await throughput();
const rtt = await pingPong();
const pct = (p: number) => rtt[Math.min(rtt.length - 1, Math.floor(rtt.length * p))].toFixed(0);
process.stdout.write(
  `tunnel one stream: ${mbps.toFixed(0)} MB/s (${megabytes} MB)\n` + `tunnel 1 KB ping-pong: p50 ${pct(0.5)} µs, p99 ${pct(0.99)} µs (${pings} round trips)\n`,
);
