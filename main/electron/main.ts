/**
 * The desktop app's main process: one instance, a window, a tray that keeps sessions
 * running when the window closes, native notifications, and the IPC contract served from
 * the same services the test bridge uses. Quit ends every session cleanly.
 */
import { app, BrowserWindow, clipboard, powerMonitor } from 'electron';
import { join } from 'node:path';
import { createLogger } from '../../proxy-core/src/log.ts';
import { NetworkWatch } from '../core/network-watch.ts';
import { createDesktopServices } from '../ipc/services/create-desktop-api.ts';
import { listenForDeepLinks, type DeepLinks } from './deep-links.ts';
import { serveIpc } from './ipc-main.ts';
import { showNotifications } from './notifications.ts';
import { createTray } from './tray.ts';
import { createMainWindow, hardenSession } from './window.ts';

const log = createLogger('desktop');
/** Runs bundled as CommonJS (main/electron/build.ts): dist/electron/{main,preload}.cjs next to dist/renderer. */
const here = __dirname;
const RENDERER_DIR = process.env.GATEHOUSE_RENDERER_DIR ?? join(here, '../renderer');
const PRELOAD = join(here, 'preload.cjs');
const ICON = join(here, 'icons/tray.png');

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void start(listenForDeepLinks());
}

async function start(deepLinks: DeepLinks): Promise<void> {
  await app.whenReady();
  hardenSession();
  const services = await createDesktopServices({ clipboard });
  if (services.secretStore.kind === 'file') log.warn({ reason: services.secretStore.reason }, 'no usable OS keychain; tokens are kept in a 0600 file');

  let win: BrowserWindow | undefined;
  const openWindow = () => {
    if (!win || win.isDestroyed()) win = createMainWindow({ rendererDir: RENDERER_DIR, preloadPath: PRELOAD });
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  };

  let quitting = false;
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    await Promise.race([services.api.close(), new Promise((r) => setTimeout(r, 5_000))]);
    app.exit(0);
  };

  serveIpc(services.handlers, () => BrowserWindow.getAllWindows());
  showNotifications(services.api, openWindow);
  createTray({ api: services.api, iconPath: ICON, openWindow, quit: () => void quit() });
  // sleep, resume and network changes: re-check every session before the next query fails
  const network = new NetworkWatch();
  const recheck = (cause: 'resume' | 'network') =>
    void services.api.systemResumed(cause).catch((err: unknown) => log.warn({ err }, 're-check after resume failed'));
  powerMonitor.on('suspend', () => log.info('the computer is going to sleep'));
  powerMonitor.on('resume', () => recheck('resume'));
  powerMonitor.on('unlock-screen', () => recheck('resume'));
  network.on('change', () => recheck('network'));
  app.on('will-quit', () => network.close());
  app.on('second-instance', openWindow);
  app.on('activate', openWindow);
  // closing the window keeps the app (and its sessions) in the tray
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event) => {
    if (!quitting) {
      event.preventDefault();
      void quit();
    }
  });
  openWindow();
  // "Open in Gatehouse" links: once the renderer listens, show the window and open Access.
  win?.webContents.once('did-finish-load', () =>
    deepLinks.deliverTo((url) => {
      openWindow();
      services.api.openAccessLink(url);
    }),
  );
}
