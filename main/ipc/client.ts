/**
 * The renderer side of the contract: `createIpcClient(transport)` gives one typed async
 * method per channel (derived from `CHANNELS`, so never written twice) and `on(event)`
 * subscriptions that return their cleanup. Failures reject with an `IpcError` carrying the
 * stable `code`; check it with `isGatehouseErrorLike`, not `instanceof`.
 */
import {
  CHANNELS,
  type ArgsOf,
  type Channel,
  type Envelope,
  type EventName,
  type IpcEvents,
  type ResultOf,
  type ErrorDetails,
  type IpcErrorInfo,
} from './contract.ts';

/** How requests and events travel: Electron's preload, or the test bridge's WebSocket. */
export interface IpcTransport {
  invoke(channel: Channel, args: unknown[]): Promise<Envelope<unknown>>;
  subscribe(event: EventName, listener: (payload: unknown) => void): () => void;
}

export type IpcClient = { [C in Channel]: (...args: ArgsOf<C>) => Promise<ResultOf<C>> } & {
  on<E extends EventName>(event: E, listener: (payload: IpcEvents[E]) => void): () => void;
};

export class IpcError extends Error implements IpcErrorInfo {
  readonly code: string;
  readonly details?: ErrorDetails;
  constructor(error: IpcErrorInfo) {
    super(error.message);
    this.name = error.name || 'GatehouseError';
    this.code = error.code;
    if (error.details) this.details = error.details;
  }
}

export function createIpcClient(transport: IpcTransport): IpcClient {
  const client: Record<string, unknown> = {
    on(event: EventName, listener: (payload: unknown) => void) {
      return transport.subscribe(event, listener);
    },
  };
  for (const channel of CHANNELS) {
    client[channel] = async (...args: unknown[]) => {
      const envelope = await transport.invoke(channel, args);
      if (!envelope.ok) throw new IpcError(envelope.error);
      return envelope.result;
    };
  }
  return client as IpcClient;
}
