/** The tray icon: the app keeps running here when the window closes. */
import { Menu, Tray, clipboard, nativeImage } from 'electron';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { AccountGroup, AuthState, SessionStatus } from '../ipc/contract.ts';
import type { DesktopApi } from '../ipc/services/desktop-api.ts';
import { trayMenu } from './tray-menu.ts';

const log = createLogger('tray');

export function createTray(opts: { api: DesktopApi; iconPath: string; openWindow: () => void; quit: () => void }): () => void {
  const tray = new Tray(nativeImage.createFromPath(opts.iconPath));
  tray.setToolTip('Gatehouse');
  let groups: AccountGroup[] = [];
  let auth: AuthState = { state: 'signed-out' };
  let pending: NodeJS.Timeout | undefined;

  const rebuild = async () => {
    const sessions: SessionStatus[] = await opts.api['sessions.list']();
    const template = trayMenu(
      { signedIn: auth.state === 'signed-in', groups, sessions, now: Date.now() },
      {
        access: (g, account) => {
          void opts.api['sessions.start']({ projectId: g.projectId, resource: g.resource.name, account, duration: '1h' }).finally(() => opts.openWindow());
        },
        stop: (id) => void opts.api['sessions.stop']({ sessionId: id }),
        copyUrl: (url) => {
          clipboard.writeText(url).catch((err: unknown) => log.warn({ err }, 'copying the URL to the clipboard failed'));
        },
        openPsql: (id) => void opts.api['clients.openPsql']({ sessionId: id }).catch(() => opts.openWindow()),
        openWindow: opts.openWindow,
        quit: opts.quit,
      },
    );
    tray.setContextMenu(Menu.buildFromTemplate(template));
  };
  /** Status pushes come up to 4/s per session; the menu is rebuilt at most once a second. */
  const schedule = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      void rebuild();
    }, 1000);
  };

  const offs = [
    opts.api.subscribe('session-status', schedule),
    opts.api.subscribe('auth-changed', (a) => {
      auth = a;
      if (a.state === 'signed-in')
        void opts.api['accounts.list']().then(
          (g) => {
            groups = g;
            schedule();
          },
          () => undefined,
        );
      else {
        groups = [];
        schedule();
      }
    }),
  ];
  const minutely = setInterval(schedule, 30_000);
  tray.on('click', opts.openWindow);
  void rebuild();
  return () => {
    clearInterval(minutely);
    clearTimeout(pending);
    for (const off of offs) off();
    tray.destroy();
  };
}
