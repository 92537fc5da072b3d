import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { PORT_RANGE, portKeyString, preferredPort, SettingsStore } from './index.ts';

const D = 'https://gatehouse.example.com';
let dir: string;
const servers: Server[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-settings-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await rm(dir, { recursive: true, force: true });
});

function occupy(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      servers.push(srv);
      resolve();
    });
  });
}

describe('SettingsStore ports', () => {
  it('gives an account the same port across restarts of the store', async () => {
    const first = await new SettingsStore({ dir }).portFor(D, 'p1', 'shop-db', 'readonly');
    expect(first).toBeGreaterThanOrEqual(PORT_RANGE.min);
    expect(first).toBeLessThanOrEqual(PORT_RANGE.max);
    const again = await new SettingsStore({ dir }).portFor(D, 'p1', 'shop-db', 'readonly');
    expect(again).toBe(first);
  });

  it('derives the first port from the account, so a fresh machine picks the same one', async () => {
    const key = { domain: D, projectId: 'p1', resource: 'shop-db', account: 'readonly' };
    const expected = preferredPort(portKeyString(key));
    const other = await mkdtemp(join(tmpdir(), 'gatehouse-settings-'));
    try {
      const a = await new SettingsStore({ dir }).portFor(D, 'p1', 'shop-db', 'readonly');
      const b = await new SettingsStore({ dir: other }).portFor(D, 'p1', 'shop-db', 'readonly');
      expect(a).toBe(b);
      expect(a).toBe(expected);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('probes upward when the preferred port is taken, and keeps the port it found', async () => {
    const key = { domain: D, projectId: 'p1', resource: 'shop-db', account: 'admin' };
    const preferred = preferredPort(portKeyString(key));
    await occupy(preferred);
    const port = await new SettingsStore({ dir }).portFor(D, 'p1', 'shop-db', 'admin');
    expect(port).not.toBe(preferred);
    // the next free port upward (other test files may hold the one right above it)
    const above = port > preferred ? port - preferred : port - PORT_RANGE.min + 1 + PORT_RANGE.max - preferred;
    expect(above).toBeGreaterThanOrEqual(1);
    expect(above).toBeLessThanOrEqual(20);
    // later, even when the preferred port is free again, the remembered one stays
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    expect(await new SettingsStore({ dir }).portFor(D, 'p1', 'shop-db', 'admin')).toBe(port);
  });

  it('gives different accounts different ports', async () => {
    const store = new SettingsStore({ dir });
    const ports = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((account) => store.portFor(D, 'p1', 'shop-db', account)));
    expect(new Set(ports).size).toBe(5);
  });

  it('lets the user edit the port, and remembers the edit', async () => {
    const key = { domain: D, projectId: 'p1', resource: 'shop-db', account: 'readonly' };
    await new SettingsStore({ dir }).setPort(key, 5433);
    expect(await new SettingsStore({ dir }).portFor(D, 'p1', 'shop-db', 'readonly')).toBe(5433);
    await expect(new SettingsStore({ dir }).setPort(key, 70_000)).rejects.toMatchObject({ code: ErrorCodes.INVALID_INPUT });
  });
});

describe('SettingsStore other settings', () => {
  it('remembers the signed-in domain, the last project and launcher paths', async () => {
    const a = new SettingsStore({ dir });
    await a.setDomain(D);
    await a.setLastProject(D, 'proj-1');
    await a.setLauncherPath('psql', '/usr/bin/psql');
    const b = new SettingsStore({ dir });
    expect(await b.getDomain()).toBe(D);
    expect(await b.getLastProject(D)).toBe('proj-1');
    expect(await b.launchers()).toEqual({ psql: '/usr/bin/psql' });
    await b.setDomain(undefined);
    expect(await a.getDomain()).toBeUndefined();
    expect(await a.getLastProject(D)).toBe('proj-1');
  });
});
