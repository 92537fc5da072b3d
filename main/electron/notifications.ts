/** Native notifications for the contract's 'notification' events (expiring, ended, revoked). */
import { Notification } from 'electron';
import type { DesktopApi } from '../ipc/services/desktop-api.ts';

export function showNotifications(api: DesktopApi, onClick: () => void): () => void {
  return api.subscribe('notification', (n) => {
    if (!Notification.isSupported()) return;
    const note = new Notification({ title: n.title, body: n.body, urgency: n.kind === 'expiring' ? 'normal' : 'critical' });
    note.on('click', onClick);
    note.show();
  });
}
