/**
 * "Open in Gatehouse": what the renderer does with a `gatehouse://access` link the main
 * process read (main/core/deep-link.ts): open the Access dialog for that account, or say why
 * it cannot (another server, not signed in, no such account for this person).
 */
import type { OpenAccessEvent } from '../../../main/ipc/contract.ts';
import { useAccountsStore } from './accounts.ts';
import { useUiStore } from './ui.ts';

export async function openAccessLink(e: OpenAccessEvent): Promise<void> {
  const ui = useUiStore.getState();
  if (e.action === 'invalid') return ui.toast({ kind: 'error', title: 'This Gatehouse link does not work', body: e.message });
  if (e.action === 'other-server') {
    return ui.toast({
      kind: 'error',
      title: `This link is for ${e.server}`,
      body: `You are signed in to ${e.signedInServer}. To use it, sign out and sign in to ${e.server}, then open the link again.`,
    });
  }
  if (e.action === 'sign-in') {
    return ui.toast({ kind: 'info', title: 'Sign in to open this account', body: `Sign in to ${e.server}, then open the link again.` });
  }
  const accounts = useAccountsStore.getState();
  if (accounts.status !== 'loaded') await accounts.load();
  const group = useAccountsStore.getState().groups.find((g) => g.projectId === e.projectId && (g.resource.name === e.resource || g.resource.id === e.resource));
  const account = group?.accounts.find((a) => a.name === e.account || a.id === e.account);
  if (!group || !account) {
    return ui.toast({
      kind: 'error',
      title: `No access to ${e.resource} / ${e.account}`,
      body: 'You may not use this account, or it no longer exists. Ask an administrator for a policy.',
    });
  }
  ui.show('accounts');
  ui.openAccess({ group, account });
}
