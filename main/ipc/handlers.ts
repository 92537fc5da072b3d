/**
 * The main-process side of the contract: `defineHandlers(services)` turns an object that
 * implements every channel into one `invoke(channel, args)` that validates the arguments,
 * calls the service and answers with an `Envelope` (errors as `{ name, code, message }`).
 */
import { ErrorCodes, GatehouseError, serializeError } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { isChannel, isEventName, type ArgsOf, type Channel, type Envelope, type EventName, type IpcEvents, type ResultOf } from './contract.ts';
import { argSchemas } from './schemas.ts';

const log = createLogger('ipc');

/** What the main process implements: one async function per channel. */
export type IpcServices = { [C in Channel]: (...args: ArgsOf<C>) => Promise<ResultOf<C>> };

export type Listener<E extends EventName> = (payload: IpcEvents[E]) => void;

/** Where pushed events come from; `subscribe` returns its own cleanup. */
export interface IpcEventSource {
  subscribe<E extends EventName>(event: E, listener: Listener<E>): () => void;
}

export interface IpcHandlers extends IpcEventSource {
  /** Never throws: unknown channels and bad arguments come back as INVALID_INPUT. */
  invoke(channel: unknown, args: unknown): Promise<Envelope<unknown>>;
}

export function defineHandlers(services: IpcServices & IpcEventSource): IpcHandlers {
  return {
    async invoke(channel, args) {
      if (!isChannel(channel)) return failure(new GatehouseError(ErrorCodes.INVALID_INPUT, 'unknown IPC channel'));
      const parsed = argSchemas[channel].safeParse(args ?? []);
      if (!parsed.success) {
        return failure(new GatehouseError(ErrorCodes.INVALID_INPUT, `invalid arguments for ${channel}: ${parsed.error.issues[0]?.message ?? 'bad input'}`));
      }
      try {
        const call = services[channel] as (...a: unknown[]) => Promise<unknown>;
        const result = await call.apply(services, parsed.data as unknown[]);
        return { ok: true, result };
      } catch (err) {
        if (!(err instanceof GatehouseError)) log.error({ err, channel }, 'IPC handler failed');
        return failure(err);
      }
    },
    subscribe(event, listener) {
      if (!isEventName(event)) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'unknown IPC event');
      return services.subscribe(event, listener);
    },
  };
}

function failure(err: unknown): Envelope<never> {
  return { ok: false, error: serializeError(err) };
}
