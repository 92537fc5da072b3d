/**
 * The renderer's transport over the test bridge: the same contract carried over a
 * browser WebSocket instead of Electron IPC. Used only when the page is loaded with
 * `?bridge=ws://…`.
 */
import { ErrorCodes } from '../../proxy-core/src/errors.ts';
import type { Channel, Envelope, EventName } from './contract.ts';
import type { IpcTransport } from './client.ts';
import type { BridgeMessage, BridgeRequest } from './ws-protocol.ts';

export function createWsTransport(url: string): IpcTransport {
  const ws = new WebSocket(url);
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error('bridge unreachable')), { once: true });
  });
  const pending = new Map<number, (envelope: Envelope<unknown>) => void>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let nextId = 1;

  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as BridgeMessage;
    if (msg.type === 'result') {
      pending.get(msg.id)?.(msg.envelope);
      pending.delete(msg.id);
    } else {
      for (const listener of listeners.get(msg.event) ?? []) listener(msg.payload);
    }
  });
  ws.addEventListener('close', () => {
    for (const resolve of pending.values()) {
      resolve({ ok: false, error: { name: 'GatehouseError', code: ErrorCodes.INTERNAL, message: 'the app backend went away' } });
    }
    pending.clear();
  });

  return {
    async invoke(channel: Channel, args: unknown[]) {
      await opened;
      const id = nextId++;
      const request: BridgeRequest = { type: 'invoke', id, channel, args };
      return new Promise<Envelope<unknown>>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify(request));
      });
    },
    subscribe(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  };
}
