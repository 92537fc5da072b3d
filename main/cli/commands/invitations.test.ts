/** Issue 14 (CLI): what `gatehouse invitations accept` takes — the admin's link, or the bare code. */
import { describe, expect, it } from 'vitest';
import { parseInvitation } from './invitations.ts';

describe('issue 14 CLI: invitation links and codes', () => {
  it('takes the server and the code from the link the admin got (#code=…, or ?code=…)', () => {
    expect(parseInvitation('http://127.0.0.1:8080/accept-invitation#code=ghi_abc%2Bdef')).toEqual({ code: 'ghi_abc+def', domain: 'http://127.0.0.1:8080' });
    expect(parseInvitation(' https://gh.example.com/accept-invitation?code=ghi_x ')).toEqual({ code: 'ghi_x', domain: 'https://gh.example.com' });
    expect(parseInvitation('ghi_only')).toEqual({ code: 'ghi_only' });
  });

  it('refuses a link without a code and text that is neither', () => {
    expect(() => parseInvitation('https://gh.example.com/accept-invitation')).toThrow(/has no code=/);
    expect(() => parseInvitation('two words')).toThrow(/neither an invitation link nor a code/);
    expect(() => parseInvitation('http://[bad')).toThrow(/not a valid link/);
  });
});
