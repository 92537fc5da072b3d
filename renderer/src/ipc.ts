/**
 * The one way the renderer talks to the main process: the typed client derived from the
 * contract, over Electron's preload (`window.gatehouse`) or, in tests, the WebSocket bridge
 * named by `?bridge=ws://…`.
 */
import { createIpcClient, type IpcClient, type IpcTransport } from '../../main/ipc/client.ts';
import { createWsTransport } from '../../main/ipc/ws-transport.ts';

declare global {
  interface Window {
    gatehouse?: IpcTransport;
  }
}

function pickTransport(): IpcTransport | undefined {
  if (window.gatehouse) return window.gatehouse;
  const bridge = new URLSearchParams(window.location.search).get('bridge');
  if (bridge && /^ws:\/\/127\.0\.0\.1:\d+\//.test(bridge)) return createWsTransport(bridge);
  return undefined;
}

const transport = pickTransport();

export const ipcAvailable = transport !== undefined;

export const ipc: IpcClient = createIpcClient(
  transport ?? {
    invoke: () =>
      Promise.resolve({ ok: false, error: { name: 'GatehouseError', code: 'GATEHOUSE_ERR_INTERNAL', message: 'not running inside the Gatehouse app' } }),
    subscribe: () => () => undefined,
  },
);
