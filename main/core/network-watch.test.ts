import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { NetworkWatch } from './network-watch.ts';

const iface = (address: string, internal = false) =>
  ({ address, internal, family: 'IPv4', netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null }) as unknown as NetworkInterfaceInfo;

describe('issue 14 item 2: network changes', () => {
  it('says when the external addresses change (not for loopback), once per change', () => {
    let current: NodeJS.Dict<NetworkInterfaceInfo[]> = { lo: [iface('127.0.0.1', true)], wlan0: [iface('192.168.1.20')] };
    const watch = new NetworkWatch({ read: () => current, intervalMs: 60_000 });
    const changes: unknown[] = [];
    watch.on('change', (c) => changes.push(c));
    watch.check();
    expect(changes).toEqual([]);
    current = { lo: [iface('127.0.0.2', true)], wlan0: [iface('192.168.1.20')] };
    watch.check();
    expect(changes).toEqual([]);
    current = { lo: [iface('127.0.0.1', true)], eth0: [iface('10.0.0.5')] };
    watch.check();
    watch.check();
    expect(changes).toEqual([{ before: ['192.168.1.20'], after: ['10.0.0.5'] }]);
    watch.close();
  });
});
