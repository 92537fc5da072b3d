import { describe, expect, it } from 'vitest';
import type { AccountGroup, SessionStatus } from '../ipc/contract.ts';
import { trayMenu, type TrayActions } from './tray-menu.ts';

const now = Date.parse('2030-01-01T10:00:00Z');
const session: SessionStatus = {
  sessionId: 's1',
  projectId: 'p',
  resourceName: 'shop',
  accountName: 'readonly',
  database: 'shop',
  username: 'readonly',
  host: '127.0.0.1',
  port: 54021,
  url: 'postgresql://readonly@127.0.0.1:54021/shop',
  expiresAt: '2030-01-01T11:04:00Z',
  state: 'ready',
  connections: 2,
  statements: 5,
  bytesIn: 1,
  bytesOut: 2,
};
const group: AccountGroup = {
  projectId: 'p',
  projectName: 'demo',
  resource: { id: 'r', name: 'shop', database: 'shop' },
  accounts: [
    {
      id: 'a',
      name: 'readonly',
      description: '',
      username: 'readonly',
      requireMfa: false,
      requireApproval: false,
      gateway: { status: 'connected', lastSeenAt: null },
    },
  ],
};

describe('tray menu', () => {
  it('lists active sessions with time left and Stop, accounts with Access, Open and Quit', () => {
    const calls: string[] = [];
    const actions: TrayActions = {
      access: (g, a) => calls.push(`access ${g.resource.name}/${a}`),
      stop: (id) => calls.push(`stop ${id}`),
      copyUrl: (u) => calls.push(`copy ${u}`),
      openPsql: (id) => calls.push(`psql ${id}`),
      openWindow: () => calls.push('open'),
      quit: () => calls.push('quit'),
    };
    const menu = trayMenu({ signedIn: true, groups: [group], sessions: [session, { ...session, sessionId: 's2', state: 'ended' }], now }, actions);
    expect(menu.map((i) => i.label ?? '—')).toEqual([
      'Active sessions (1)',
      'shop / readonly — 1 h 4 min left',
      '—',
      'Access',
      '—',
      'Open Gatehouse',
      'Quit (ends sessions)',
    ]);
    const sub = menu[1].submenu!;
    expect(sub[0].label).toBe('127.0.0.1:54021 · 2 connections');
    sub.find((i) => i.label === 'Stop')!.click!();
    menu[3].submenu![0].submenu![0].click!();
    menu[6].click!();
    expect(calls).toEqual(['stop s1', 'access shop/readonly', 'quit']);
  });

  it('says when nothing runs', () => {
    const menu = trayMenu({ signedIn: false, groups: [], sessions: [], now }, {} as TrayActions);
    expect(menu.map((i) => i.label ?? '—')).toEqual(['No active sessions', '—', 'Open Gatehouse', 'Quit']);
  });
});
