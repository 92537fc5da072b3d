/** Messages of the test bridge's WebSocket (JSON text frames). */
import type { Envelope, EventName } from './contract.ts';

export type BridgeRequest = { type: 'invoke'; id: number; channel: string; args: unknown };
export type BridgeMessage = { type: 'result'; id: number; envelope: Envelope<unknown> } | { type: 'event'; event: EventName; payload: unknown };
