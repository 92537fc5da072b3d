/**
 * Serves the contract over Electron IPC: one `invoke` handler (answers only our own
 * window's main frame) and every contract event pushed to the windows.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { ErrorCodes } from '../../proxy-core/src/errors.ts';
import { EVENTS, IPC_PREFIX } from '../ipc/contract.ts';
import type { IpcHandlers } from '../ipc/handlers.ts';

export function serveIpc(handlers: IpcHandlers, windows: () => BrowserWindow[]): () => void {
  const isOurs = (event: IpcMainInvokeEvent) =>
    windows().some((w) => !w.isDestroyed() && w.webContents.id === event.sender.id) && event.senderFrame === event.sender.mainFrame;

  ipcMain.handle(`${IPC_PREFIX}invoke`, (event, channel: unknown, args: unknown) => {
    if (!isOurs(event)) return { ok: false, error: { name: 'GatehouseError', code: ErrorCodes.FORBIDDEN, message: 'not the Gatehouse window' } };
    return handlers.invoke(channel, args);
  });
  const cleanups = EVENTS.map((name) =>
    handlers.subscribe(name, (payload) => {
      for (const w of windows()) if (!w.isDestroyed()) w.webContents.send(`${IPC_PREFIX}event`, name, payload);
    }),
  );
  return () => {
    ipcMain.removeHandler(`${IPC_PREFIX}invoke`);
    for (const c of cleanups) c();
  };
}
