import { describe, expect, it } from 'vitest';
import { describeSession } from './SessionState.tsx';

const since = '2026-01-01T00:00:00.000Z';

describe('issue 14 item 1: the session panel never says Ready while the tunnel or the gateway is down', () => {
  it('ready only when the connection is', () => {
    expect(describeSession({ state: 'ready', connection: { state: 'ready', since } }).label).toBe('Ready');
    expect(describeSession({ state: 'ready', connection: { state: 'reconnecting', since, reason: 'the tunnel dropped' } })).toEqual({
      state: 'reconnecting',
      label: 'Reconnecting…',
      detail: 'The tunnel dropped.',
    });
    expect(describeSession({ state: 'ready', connection: { state: 'gateway-offline', since } }).label).toBe('Gateway offline');
  });

  it('an ended session says why and who revoked it', () => {
    expect(
      describeSession({ state: 'ended', endReason: 'revoked', connection: { state: 'ended', since, revokedBy: 'admin@example.com', reason: 'incident 7' } }),
    ).toEqual({ state: 'ended', label: 'Revoked', detail: 'Revoked by admin@example.com: incident 7' });
    expect(describeSession({ state: 'ended', endReason: 'stopped' }).label).toBe('Stopped');
    expect(describeSession({ state: 'ready', connection: { state: 'ended', since } }).label).toBe('Ended');
  });
});
