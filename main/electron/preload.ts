/**
 * The renderer's only door to the main process: `window.gatehouse`, the contract's
 * transport (invoke a known channel, subscribe to a known event). Never ipcRenderer,
 * never process.env. Bundled to CommonJS for the sandboxed preload.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_PREFIX, isChannel, isEventName, type Channel, type Envelope, type EventName } from '../ipc/contract.ts';

const api = {
  invoke(channel: Channel, args: unknown[]): Promise<Envelope<unknown>> {
    if (!isChannel(channel))
      return Promise.resolve({ ok: false, error: { name: 'GatehouseError', code: 'GATEHOUSE_ERR_INVALID_INPUT', message: 'unknown IPC channel' } });
    return ipcRenderer.invoke(`${IPC_PREFIX}invoke`, channel, args) as Promise<Envelope<unknown>>;
  },
  subscribe(event: EventName, listener: (payload: unknown) => void): () => void {
    if (!isEventName(event)) throw new Error('unknown IPC event');
    const handler = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(`${IPC_PREFIX}event`, handler);
    return () => {
      ipcRenderer.removeListener(`${IPC_PREFIX}event`, handler);
    };
  },
};

contextBridge.exposeInMainWorld('gatehouse', api);
