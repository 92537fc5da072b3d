import { describe, expect, it } from 'vitest';
import type { AppNotification, SessionStatus } from '../contract.ts';
import { createSessionNotifier } from './notifier.ts';

function status(expiresInMs: number, state: SessionStatus['state'] = 'ready'): SessionStatus {
  return {
    sessionId: 's1',
    projectId: 'p1',
    resourceName: 'demo-postgres',
    accountName: 'readonly',
    database: 'shop',
    username: 'readonly',
    host: '127.0.0.1',
    port: 5433,
    url: 'postgresql://readonly@127.0.0.1:5433/shop',
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    state,
    connections: 0,
    statements: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

describe('session notifier', () => {
  it('warns at once for a session shorter than the warning lead, naming the seconds left', async () => {
    const seen: AppNotification[] = [];
    const notifier = createSessionNotifier((n) => seen.push(n));
    notifier.update(status(20_000));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'expiring', title: 'Access to demo-postgres / readonly ends soon' });
    expect((seen[0] as { body: string }).body).toMatch(/^The session expires in (19|20) seconds\./);
    notifier.close();
  });

  it('warns 5 minutes ahead for a longer session, and not before', async () => {
    const seen: AppNotification[] = [];
    const notifier = createSessionNotifier((n) => seen.push(n), { warnBeforeMs: 5 * 60_000 });
    notifier.update(status(5 * 60_000 + 300));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 400));
    expect((seen[0] as { body: string }).body).toContain('expires in 5 minutes');
    notifier.close();
  });
});
