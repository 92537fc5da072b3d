import { describe, expect, it } from 'vitest';
import { accessLink } from '../../renderer/src/console/access-command.ts';
import { accessLinkInArgv, buildAccessLink, parseAccessLink, resolveAccessLink } from './deep-link.ts';

const LINK = 'gatehouse://access?domain=https%3A%2F%2Fgatehouse.example.com&projectId=p-1&resource=shop&account=readonly&duration=1h';

describe('issue 11: Open in Gatehouse links (gatehouse://access?…)', () => {
  it('reads the link the web console shows for an account', () => {
    const fromConsole = accessLink({ projectId: 'p-1', resource: 'orders db', account: 'read only' }, '4h', 'https://gatehouse.example.com');
    expect(parseAccessLink(fromConsole)).toEqual({
      domain: 'https://gatehouse.example.com',
      projectId: 'p-1',
      resource: 'orders db',
      account: 'read only',
      duration: '4h',
    });
    expect(parseAccessLink(LINK)).toEqual({ domain: 'https://gatehouse.example.com', projectId: 'p-1', resource: 'shop', account: 'readonly', duration: '1h' });
  });

  it('builds what it reads, and the domain is reduced to its origin', () => {
    const link = { domain: 'https://gatehouse.example.com', projectId: 'p', resource: 'a&b', account: 'x=y', duration: '30m' };
    expect(parseAccessLink(buildAccessLink(link))).toEqual(link);
    expect(parseAccessLink(LINK.replace('gatehouse.example.com', 'gatehouse.example.com%2Fsome%2Fpath%3Fq')).domain).toBe('https://gatehouse.example.com');
    expect(parseAccessLink('gatehouse://access/?domain=http://127.0.0.1:8080&projectId=p&resource=r&account=a')).toEqual({
      domain: 'http://127.0.0.1:8080',
      projectId: 'p',
      resource: 'r',
      account: 'a',
    });
  });

  it.each([
    ['https://gatehouse.example.com/access?projectId=p', /not a Gatehouse access link/],
    ['gatehouse://connect?domain=https://x&projectId=p&resource=r&account=a', /not a Gatehouse access link/],
    ['gatehouse://access?projectId=p&resource=r&account=a', /domain/],
    ['gatehouse://access?domain=javascript:alert(1)&projectId=p&resource=r&account=a', /domain: .*http/],
    ['gatehouse://access?domain=file:///etc/passwd&projectId=p&resource=r&account=a', /domain/],
    ['gatehouse://access?domain=https://x&projectId=p&resource=r', /account/],
    ['gatehouse://access?domain=https://x&projectId=p&resource=r&account=a&duration=forever', /duration must look like/],
    [`gatehouse://access?domain=https://x&projectId=p&resource=${'r'.repeat(5000)}&account=a`, /too long/],
    ['not a url', /not a Gatehouse link/],
  ])('refuses %s with a message that says what is wrong', (raw, message) => {
    expect(() => parseAccessLink(raw)).toThrow(message);
    try {
      parseAccessLink(raw);
    } catch (err) {
      expect((err as { code: string }).code).toBe('GATEHOUSE_ERR_INVALID_INPUT');
    }
  });

  it('opens the account only for the server signed in to; otherwise says which server the link is for', () => {
    expect(resolveAccessLink(LINK, 'https://gatehouse.example.com')).toEqual({
      action: 'open',
      projectId: 'p-1',
      resource: 'shop',
      account: 'readonly',
      duration: '1h',
    });
    expect(resolveAccessLink(LINK, 'https://gatehouse.example.com/')).toMatchObject({ action: 'open' });
    expect(resolveAccessLink(LINK, 'https://evil.example.com')).toEqual({
      action: 'other-server',
      server: 'https://gatehouse.example.com',
      signedInServer: 'https://evil.example.com',
    });
    // Same host, another scheme or port: another server.
    expect(resolveAccessLink(LINK, 'http://gatehouse.example.com')).toMatchObject({ action: 'other-server' });
    expect(resolveAccessLink(LINK, 'https://gatehouse.example.com:8443')).toMatchObject({ action: 'other-server' });
    expect(resolveAccessLink(LINK, undefined)).toEqual({ action: 'sign-in', server: 'https://gatehouse.example.com' });
    expect(resolveAccessLink('gatehouse://access?x=1', 'https://gatehouse.example.com')).toMatchObject({
      action: 'invalid',
      message: expect.stringContaining('domain'),
    });
  });

  it('finds the link among the arguments a second instance starts with (Windows, Linux)', () => {
    expect(accessLinkInArgv(['/opt/Gatehouse/gatehouse', '--no-sandbox', LINK])).toBe(LINK);
    expect(accessLinkInArgv(['C:\\Gatehouse.exe', 'GATEHOUSE://access?x'])).toBe('GATEHOUSE://access?x');
    expect(accessLinkInArgv(['/opt/Gatehouse/gatehouse', '--hidden'])).toBeUndefined();
  });
});
