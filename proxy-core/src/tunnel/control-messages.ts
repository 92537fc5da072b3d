/**
 * The link-level control messages (text WebSocket messages next to the binary frames;
 * docs/architecture.md, "Tunnel"), as one discriminated union with one parser:
 *
 * - gateway → control plane: `events` (a batch of session events to store durably);
 * - control plane → gateway: `ack` (every event up to `seq` is stored), `session-ended`
 *   (with `sessionId`: terminate its connections), `replicas` (the live control plane replicas);
 * - control plane → client tunnel: `session-ended` (without `sessionId`: this tunnel's session),
 *   `gateway-status` (whether the session's gateway is linked), `direct-streams` (the key for
 *   direct streams);
 * - direct streams (direct-stream.ts): `dial` (control plane → gateway) and `dial-refused` (back).
 *
 * Every receiver parses with `parseControlMessage` and ignores what it does not handle.
 */
import { z } from 'zod';
import type { SessionEvent } from '../recorder/events.ts';
import { SESSION_END_REASONS } from './session-end.ts';

/** Most events in one `events` message. */
export const MAX_EVENTS_PER_BATCH = 10_000;

const id = z.string().min(1).max(128);

/**
 * The envelope of each event (the recorder's body is stored as it came): a positive safe
 * integer `seq`, strictly increasing through the batch, and the session and connection it is about.
 */
const sessionEvent = z.looseObject({
  seq: z.number().int().positive(),
  sessionId: z.string(),
  connectionId: z.string(),
  at: z.string(),
  type: z.string(),
});

const eventBatch = z
  .array(sessionEvent)
  .min(1)
  .max(MAX_EVENTS_PER_BATCH)
  .refine((events) => events.every((e, i) => i === 0 || e.seq > events[i - 1].seq), 'event seqs must increase')
  .transform((events) => events as unknown as SessionEvent[]);

const controlMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('events'), events: eventBatch }),
  z.object({ type: z.literal('ack'), seq: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('session-ended'),
    /** A reason this side does not know still ends the session (fail closed). */
    reason: z.enum(SESSION_END_REASONS).catch('ended'),
    sessionId: id.optional(),
  }),
  z.object({ type: z.literal('gateway-status'), connected: z.boolean() }),
  /**
   * The session now ends later (extended in place): to a gateway with `sessionId`, to a client
   * tunnel with the certificate its local proxy presents to new connections.
   */
  z.object({
    type: z.literal('session-extended'),
    expiresAt: z.iso.datetime(),
    sessionId: id.optional(),
    certificatePem: z.string().min(1).max(8000).optional(),
  }),
  /** Control plane → client tunnel: the key that opens direct streams of this tunnel's session (direct-stream.ts). */
  z.object({ type: z.literal('direct-streams'), key: z.string().min(16).max(128) }),
  /**
   * Control plane → gateway: open a direct stream back to `url` (this replica's advertised URL;
   * else the link's own) with `token`, and serve `meta` on it as on a tunnel stream.
   */
  z.object({
    type: z.literal('dial'),
    token: z.string().min(16).max(128),
    url: z.string().url().max(2048).optional(),
    meta: z.looseObject({}),
  }),
  /** Gateway → control plane: the stream of `token` is refused (quota, session over, target sealed elsewhere). */
  z.object({ type: z.literal('dial-refused'), token: z.string().min(16).max(128), code: z.string().max(64), message: z.string().max(1000) }),
  z.object({
    type: z.literal('replicas'),
    self: id,
    replicas: z.array(z.object({ id, url: z.string().url().max(2048) })).max(256),
  }),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type ControlMessageType = ControlMessage['type'];
export type ControlMessageOf<T extends ControlMessageType> = Extract<ControlMessage, { type: T }>;
export type ReplicaInfo = ControlMessageOf<'replicas'>['replicas'][number];

const TYPES: ReadonlySet<string> = new Set(controlMessageSchema.options.map((option) => option.shape.type.value));

export type ControlParse =
  | { ok: true; message: ControlMessage }
  /** `unknown-type`: a message from a newer peer (ignore it); `malformed`: a known type with bad fields. */
  | { ok: false; problem: 'not-json' | 'unknown-type' | 'malformed'; type?: string; error: string };

/** The one parser of control messages: an object (as a Mux emits it) or the message text. */
export function parseControlMessage(input: unknown): ControlParse {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch {
      return { ok: false, problem: 'not-json', error: 'control message is not JSON' };
    }
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return { ok: false, problem: 'unknown-type', ...(typeof type === 'string' && { type: type.slice(0, 64) }), error: 'unknown control message type' };
  }
  const parsed = controlMessageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: 'malformed', type, error: `${issue?.path.join('.') || type}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data };
}

/** The text of a control message, for senders that write to the WebSocket themselves. */
export function encodeControlMessage(message: ControlMessage): string {
  return JSON.stringify(message);
}
