import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../../proxy-core/src/errors.ts';
import { INITIAL_WINDOW } from '../../../../proxy-core/src/tunnel/frames.ts';
import type { GatewayStreamMeta } from '../../../../proxy-core/src/tunnel/meta.ts';
import type { SessionEvent } from '../../../../proxy-core/src/recorder/events.ts';
import { GATEWAY_ID, SESSION_ID, connectClient, connectGateway, readExactly, refusedUpgrade, startHarness, until, type Harness, type Peer } from './harness.ts';

let h: Harness;
const peers: Peer[] = [];

beforeEach(async () => {
  h = await startHarness({ endGraceMs: 50 });
});
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await h.close();
});

async function gateway(): Promise<Peer> {
  const p = await connectGateway(h);
  peers.push(p);
  await until(() => h.relay.isGatewayConnected(GATEWAY_ID));
  return p;
}
async function client(sessionId?: string): Promise<Peer> {
  const p = await connectClient(h, sessionId);
  peers.push(p);
  return p;
}

function echo(stream: Duplex): void {
  stream.on('error', () => undefined);
  stream.pipe(stream);
}

function streamError(stream: Duplex): Promise<Error & { code?: string }> {
  return new Promise((resolve) => stream.once('error', resolve));
}

function event(seq: number): SessionEvent {
  return { seq, sessionId: SESSION_ID, connectionId: 'c1', at: new Date().toISOString(), type: 'connect', applicationName: 'psql' };
}

describe('Relay', () => {
  it('relays bytes client → gateway → client byte-exact, with the session meta added for the gateway', async () => {
    const gw = await gateway();
    const metas: GatewayStreamMeta[] = [];
    gw.mux.on('stream', (stream, meta) => {
      metas.push(meta as unknown as GatewayStreamMeta);
      echo(stream); // echo
    });
    const cl = await client();
    const stream = cl.mux.openStream({ kind: 'pg', clientAddress: '127.0.0.1:50000', applicationName: 'psql' });
    const payload = randomBytes(5 * 1024 * 1024 + 17);
    const echoed = readExactly(stream, payload.length);
    stream.end(payload);
    expect((await echoed).equals(payload)).toBe(true);

    expect(metas).toHaveLength(1);
    expect(metas[0]).toMatchObject({ kind: 'pg', sessionId: SESSION_ID, clientAddress: '127.0.0.1:50000', applicationName: 'psql' });
    expect(metas[0].target.passwordSealed).toBe('ghseal1.sealed-db-secret');
    expect(metas[0].connectionId).toMatch(/^[0-9a-f-]{36}$/);
    const stats = h.relay.stats();
    expect(stats.bytesClientToGateway).toBe(payload.length);
    expect(stats.bytesGatewayToClient).toBe(payload.length);
    expect(cl.controls).toContainEqual({ type: 'gateway-status', connected: true });
  });

  it('does not let a stream whose reader is stalled hold up another stream', async () => {
    const gw = await gateway();
    gw.mux.on('stream', (stream, meta) => {
      if ((meta as { applicationName?: string }).applicationName === 'bulk') {
        stream.write(randomBytes(8 * 1024 * 1024)); // far more than one window
        stream.on('error', () => undefined);
      } else {
        echo(stream);
      }
    });
    const cl = await client();
    const bulk = cl.mux.openStream({ kind: 'pg', clientAddress: 'x', applicationName: 'bulk' });
    bulk.on('error', () => undefined);
    bulk.pause(); // nobody reads it
    await until(() => h.relay.stats().bytesGatewayToClient >= INITIAL_WINDOW);

    const started = Date.now();
    const quick = cl.mux.openStream({ kind: 'pg', clientAddress: 'x', applicationName: 'quick' });
    const reply = readExactly(quick, 5);
    quick.write('hello');
    expect((await reply).toString()).toBe('hello');
    expect(Date.now() - started).toBeLessThan(1000);
    // The relay forwarded no more of the stalled stream than its window allows.
    expect(h.relay.stats().bytesGatewayToClient).toBeLessThanOrEqual(INITIAL_WINDOW + 5);
  });

  it('refuses a tunnel without a valid token with 401 and a stable code, and an ended session with 410', async () => {
    const unauth = await refusedUpgrade(`${h.url}/api/v1/sessions/${SESSION_ID}/tunnel`, { authorization: 'Bearer nope' });
    expect(unauth.status).toBe(401);
    expect(unauth.body.error.code).toBe(ErrorCodes.UNAUTHENTICATED);
    const revoked = await refusedUpgrade(`${h.url}/api/v1/sessions/revoked/tunnel`, { authorization: 'Bearer good-token' });
    expect(revoked.status).toBe(410);
    expect(revoked.body.error.code).toBe(ErrorCodes.SESSION_REVOKED);
    const missing = await refusedUpgrade(`${h.url}/api/v1/sessions/other/tunnel`, { authorization: 'Bearer good-token' });
    expect(missing.status).toBe(404);
    const badGateway = await refusedUpgrade(`${h.url}/api/v1/gateways/link`, { 'x-gatehouse-gateway-id': GATEWAY_ID, 'x-gatehouse-signature': 'forged' });
    expect(badGateway.status).toBe(401);
    expect(badGateway.body.error.code).toBe(ErrorCodes.UNAUTHENTICATED);
  });

  it('resets a stream with GATEWAY_UNAVAILABLE when the gateway is not connected', async () => {
    const cl = await client();
    await until(() => cl.controls.length > 0);
    expect(cl.controls[0]).toEqual({ type: 'gateway-status', connected: false });
    const stream = cl.mux.openStream({ kind: 'pg', clientAddress: 'x' });
    const err = await streamError(stream);
    expect(err.code).toBe(ErrorCodes.GATEWAY_UNAVAILABLE);
  });

  it('resets relayed streams with TUNNEL_CLOSED when the gateway link drops, and tells the client', async () => {
    const gw = await gateway();
    gw.mux.on('stream', (stream) => echo(stream));
    const cl = await client();
    const stream = cl.mux.openStream({ kind: 'pg', clientAddress: 'x' });
    const reply = readExactly(stream, 2);
    stream.write('hi');
    await reply;
    const err = streamError(stream);
    gw.ws.terminate();
    expect((await err).code).toBe(ErrorCodes.TUNNEL_CLOSED);
    await until(() => cl.controls.some((m) => m.type === 'gateway-status' && m.connected === false));
    await until(() => h.connected.get(GATEWAY_ID) === false);
    expect(h.relay.stats().streamsOpen).toBe(0);
  });

  it('acks events only after storeEvents resolved, and never acks a batch it could not store', async () => {
    const gw = await gateway();
    let release!: () => void;
    h.storeEvents = (events) =>
      new Promise<void>((resolve) => {
        release = () => {
          h.stored.push(...events);
          resolve();
        };
      });
    gw.mux.sendControl({ type: 'events', events: [event(1), event(2), event(3)] });
    await until(() => release !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(gw.controls).toEqual([]); // not stored yet: no ack
    release();
    await until(() => gw.controls.length === 1);
    expect(gw.controls[0]).toEqual({ type: 'ack', seq: 3 });

    h.storeEvents = () => Promise.reject(new Error('database is down'));
    gw.mux.sendControl({ type: 'events', events: [event(4), event(5)] });
    await new Promise((r) => setTimeout(r, 100));
    h.storeEvents = (events) => {
      h.stored.push(...events);
      return Promise.resolve();
    };
    gw.mux.sendControl({ type: 'events', events: [event(6)] }); // stored, but 4-5 are missing
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.controls).toEqual([{ type: 'ack', seq: 3 }]);
    gw.mux.sendControl({ type: 'events', events: [event(4), event(5), event(6)] }); // the gateway resends
    await until(() => gw.controls.length === 2);
    expect(gw.controls[1]).toEqual({ type: 'ack', seq: 6 });
    expect(h.stored.map((e) => e.seq)).toEqual([1, 2, 3, 6, 4, 5, 6]);
  });

  it('endSession tells the gateway and the client, then closes the tunnel with 4000', async () => {
    const gw = await gateway();
    const cl = await client();
    h.relay.endSession(SESSION_ID, 'revoked');
    const closed = await cl.closed;
    expect(closed).toEqual({ code: 4000, reason: 'revoked' });
    expect(cl.controls).toContainEqual({ type: 'session-ended', reason: 'revoked' });
    await until(() => gw.controls.length > 0);
    expect(gw.controls[0]).toEqual({ type: 'session-ended', sessionId: SESSION_ID, reason: 'revoked' });
  });

  it('refuses new streams once the session has expired and closes the tunnel at expiry', async () => {
    await gateway();
    h.expiresAt = new Date(Date.now() + 300);
    const cl = await client();
    await new Promise((r) => setTimeout(r, 320));
    const stream = cl.mux.openStream({ kind: 'pg', clientAddress: 'x' });
    expect((await streamError(stream)).code).toBe(ErrorCodes.SESSION_EXPIRED);
    const closed = await cl.closed;
    expect(closed).toEqual({ code: 4000, reason: 'expired' });
    expect(cl.controls).toContainEqual({ type: 'session-ended', reason: 'expired' });
  });

  it('replaces an older link of the same gateway with the new one', async () => {
    const first = await gateway();
    const second = await connectGateway(h);
    peers.push(second);
    expect((await first.closed).code).toBe(4001);
    expect(h.relay.isGatewayConnected(GATEWAY_ID)).toBe(true);
    second.mux.on('stream', (stream) => echo(stream));
    const cl = await client();
    const stream = cl.mux.openStream({ kind: 'pg', clientAddress: 'x' });
    const reply = readExactly(stream, 3);
    stream.write('abc');
    expect((await reply).toString()).toBe('abc');
  });
});
