/**
 * A fair share of one tunnel link per session and per user (issue 10 item 3). A gateway link
 * carries the streams of every user of that gateway; without a share, one member opening a
 * thousand streams that never start TLS fills the link's stream table and every other user
 * is refused. With it, the flood only hits the flooder's own limits.
 *
 * Two counts per key: open streams, and streams still in their TLS handshake ("pending"),
 * which are cheap to open and so get the tighter limit (and a short deadline elsewhere).
 */
export interface StreamLimits {
  /** Streams one session may have open on the link. */
  perSession: number;
  /** Streams one user may have open on the link, across their sessions. */
  perUser: number;
  /** Streams of one session still in their handshake. */
  pendingPerSession: number;
  /** Streams of one user still in their handshake. */
  pendingPerUser: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { perSession: 256, perUser: 512, pendingPerSession: 64, pendingPerUser: 128 };

export interface StreamLease {
  /** The stream finished its handshake: it no longer counts as pending. Idempotent. */
  established(): void;
  /** The stream is gone. Idempotent. */
  release(): void;
}

export type StreamAdmission = { ok: true; lease: StreamLease } | { ok: false; message: string };

export class StreamQuota {
  readonly #limits: StreamLimits;
  readonly #open = new Map<string, number>();
  readonly #pending = new Map<string, number>();

  constructor(limits: Partial<StreamLimits> = {}) {
    this.#limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
  }

  /** Admits a new (pending) stream of `sessionId` opened for `user`, or says which limit it hits. */
  admit(sessionId: string, user: string): StreamAdmission {
    const session = `s:${sessionId}`;
    const owner = `u:${user}`;
    const l = this.#limits;
    if (count(this.#pending, session) >= l.pendingPerSession)
      return refused(`too many connections of this session are still starting (limit ${l.pendingPerSession}); retry shortly`);
    if (count(this.#pending, owner) >= l.pendingPerUser)
      return refused(`too many of your connections are still starting (limit ${l.pendingPerUser}); retry shortly`);
    if (count(this.#open, session) >= l.perSession) return refused(`too many connections on this session (limit ${l.perSession}); close some first`);
    if (count(this.#open, owner) >= l.perUser) return refused(`too many of your connections on this gateway (limit ${l.perUser}); close some first`);
    for (const key of [session, owner]) {
      bump(this.#open, key, 1);
      bump(this.#pending, key, 1);
    }
    let pending = true;
    let open = true;
    const established = (): void => {
      if (!pending) return;
      pending = false;
      bump(this.#pending, session, -1);
      bump(this.#pending, owner, -1);
    };
    return {
      ok: true,
      lease: {
        established,
        release: () => {
          established();
          if (!open) return;
          open = false;
          bump(this.#open, session, -1);
          bump(this.#open, owner, -1);
        },
      },
    };
  }

  /** Open and pending streams of a session or user (for tests and metrics). */
  usage(kind: 'session' | 'user', id: string): { open: number; pending: number } {
    const key = `${kind === 'session' ? 's' : 'u'}:${id}`;
    return { open: count(this.#open, key), pending: count(this.#pending, key) };
  }
}

function count(map: Map<string, number>, key: string): number {
  return map.get(key) ?? 0;
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = count(map, key) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

function refused(message: string): StreamAdmission {
  return { ok: false, message };
}
