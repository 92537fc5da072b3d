/**
 * Issue 9: the gateway keeps a link to every control plane replica it is told about, so any
 * replica reaches it directly; when the replica carrying its events dies, the events go to
 * another one and none is lost; a replica that leaves the list is no longer dialed.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../proxy-core/src/recorder/events.ts';
import { createGateway } from '../gateway.ts';
import { createPki, gatewayDataDir, removeDir, startControlPlane, until, type Pki } from './stack.ts';

let pki: Pki;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  pki = await createPki();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

describe('issue 9: gateway links to every control plane replica', () => {
  it('links to each listed replica, moves its events to a live one when the seed replica dies, and stops dialing a replica that left', async () => {
    const stored = new Map<number, SessionEvent>();
    let list: Array<{ id: string; url: string }> = [];
    const a = await startControlPlane(pki, new Map(), 0, stored, { replicaId: 'replica-a', replicas: () => list });
    const b = await startControlPlane(pki, new Map(), 0, stored, { replicaId: 'replica-b', replicas: () => list });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    list = [
      { id: 'replica-a', url: a.url },
      { id: 'replica-b', url: b.url },
    ];

    const dataDir = await gatewayDataDir(pki);
    cleanups.push(() => removeDir(dataDir));
    const gateway = createGateway({ domain: a.url, dataDir, eventLog: { flushIntervalMs: 20 }, link: { baseBackoffMs: 50, maxBackoffMs: 300 } });
    cleanups.push(() => gateway.close());
    await gateway.start();
    await gateway.waitConnected(10_000);
    await until(() => a.relay.isGatewayConnected('gw-test') && b.relay.isGatewayConnected('gw-test'));
    await until(() => gateway.links.filter((l) => l.state.state === 'connected' && l.replicaId !== undefined).length === 2);
    const up = gateway.links.filter((l) => l.state.state === 'connected');
    expect(up.map((l) => [l.role, l.replicaId]).sort()).toEqual([
      ['direct', 'replica-b'],
      ['seed', 'replica-a'],
    ]);

    // The seed replica dies; events recorded meanwhile reach the store through the other one.
    await a.close();
    await until(() => !a.relay.isGatewayConnected('gw-test'));
    for (let i = 0; i < 40; i += 1) {
      gateway.eventLog!.append({ type: 'connect', sessionId: 's', connectionId: `after-a-${i}`, at: new Date().toISOString() });
    }
    await until(() => gateway.eventLog!.stats.unacked === 0, 10_000);
    expect(gateway.connected).toBe(true);
    const seqs = [...stored.keys()].sort((x, y) => x - y);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect([...stored.values()].filter((e) => e.connectionId.startsWith('after-a-'))).toHaveLength(40);

    // While A is still listed the gateway redials it; once the list drops it, it stops.
    await until(() => gateway.links.some((l) => l.url === a.url && l.role === 'direct' && l.state.state === 'waiting'));
    list = [{ id: 'replica-b', url: b.url }];
    b.relay.announceReplicas();
    await until(() => !gateway.links.some((l) => l.url === a.url && l.role === 'direct'));
    expect(gateway.links.filter((l) => l.state.state === 'connected').map((l) => l.replicaId)).toEqual(['replica-b']);
  }, 30_000);
});

describe('issue 9: redial backoff', () => {
  it('grows exponentially, stays within [ceiling/2, ceiling], and never exceeds the 4 s cap', async () => {
    const { backoffDelay } = await import('../backoff.ts');
    expect(backoffDelay(0, 250, 4_000, () => 0)).toBe(125);
    expect(backoffDelay(0, 250, 4_000, () => 0.999)).toBeLessThanOrEqual(250);
    expect(backoffDelay(3, 250, 4_000, () => 0)).toBe(1_000);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const delay = backoffDelay(attempt);
      expect(delay).toBeGreaterThanOrEqual(Math.min(4_000, 250 * 2 ** attempt) / 2);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });
});
