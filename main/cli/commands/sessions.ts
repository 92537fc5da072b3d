import type { SessionEvent, SessionStatus } from '../../core/api/types.ts';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { hasCode, type ApiError } from '../../core/api/api-errors.ts';
import type { MfaProof } from '../../core/api/types.ts';
import { COMMON_OPTIONS, parse, parseDuration, requireString } from '../args.ts';
import { MFA_OPTIONS, obtainMfaProof, parseMfaMethod } from '../mfa.ts';
import { RunningSessions } from '../running-sessions.ts';
import { openContext } from '../context.ts';
import { localTime, table } from '../format.ts';
import { out, type CliIo } from '../io.ts';
import { UsageError } from '../usage-error.ts';
import { logHeader, logLines, logViewOptions } from './session-log-view.ts';

const STATUSES: readonly SessionStatus[] = ['active', 'ended', 'revoked', 'expired'];
const PAGE = 500;

export async function sessionsList(argv: string[], io: CliIo): Promise<number> {
  const command = 'sessions list';
  const { values } = parse(command, argv, {
    ...COMMON_OPTIONS,
    'project-id': { type: 'string' },
    status: { type: 'string' },
    json: { type: 'boolean' },
  });
  const status = values.status as SessionStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status)) {
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`, command);
  }
  const ctx = await openContext(io, command, values.domain);
  try {
    const sessions = await ctx.api.listSessions({ projectId: values['project-id'], status });
    if (values.json) {
      for (const s of sessions) out(io, JSON.stringify(s));
      return 0;
    }
    if (sessions.length === 0) {
      out(io, 'No sessions.');
      return 0;
    }
    out(
      io,
      table(
        ['ID', 'RESOURCE', 'ACCOUNT', 'USER', 'STATUS', 'CREATED', 'EXPIRES / ENDED'],
        sessions.map((s) => [
          s.id,
          s.resource.name,
          s.account.name,
          s.userEmail,
          s.status,
          localTime(s.createdAt),
          localTime(s.status === 'active' ? s.expiresAt : (s.endedAt ?? s.expiresAt)),
        ]),
      ),
    );
    return 0;
  } finally {
    await ctx.api.close();
  }
}

const MAX_TAIL = 1000;
const FOLLOW_POLL_MS = 1000;

export async function sessionsLogs(argv: string[], io: CliIo): Promise<number> {
  const command = 'sessions logs';
  const { values, positionals } = parse(
    command,
    argv,
    {
      ...COMMON_OPTIONS,
      json: { type: 'boolean' },
      after: { type: 'string' },
      limit: { type: 'string' },
      tail: { type: 'string' },
      follow: { type: 'boolean', short: 'f' },
    },
    true,
  );
  const [id, ...extra] = positionals;
  if (!id) throw new UsageError('a session id is required: gatehouse sessions logs <session-id>', command);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, command);
  const after = count(command, '--after', values.after, 0);
  const limit = count(command, '--limit', values.limit, 1);
  const tail = count(command, '--tail', values.tail, 1);
  if (tail !== undefined && tail > MAX_TAIL) throw new UsageError(`--tail is at most ${MAX_TAIL}`, command);
  if (tail !== undefined && after !== undefined) throw new UsageError('--tail and --after do not go together', command);

  const view = logViewOptions(io.stdout as { isTTY?: boolean; columns?: number }, io.env);
  let printed = 0;
  let header = false;
  const print = (events: SessionEvent[]): boolean => {
    for (const event of events) {
      if (limit !== undefined && printed >= limit) return false;
      if (values.json) out(io, JSON.stringify(event));
      else {
        if (!header) out(io, logHeader(view));
        header = true;
        for (const line of logLines(event, view)) out(io, line);
      }
      printed += 1;
    }
    return limit === undefined || printed < limit;
  };

  const ctx = await openContext(io, command, values.domain);
  try {
    let cursor = after ?? 0;
    let more = true;
    if (tail !== undefined) {
      const { events } = await ctx.api.sessionLogs(id, { tail });
      more = print(events);
      cursor = events.at(-1)?.seq ?? cursor;
    } else {
      for (;;) {
        const page = await ctx.api.sessionLogs(id, { after: cursor, limit: Math.min(PAGE, limit === undefined ? PAGE : limit - printed) });
        more = print(page.events);
        cursor = page.events.at(-1)?.seq ?? cursor;
        if (!more || page.next === undefined || page.events.length === 0) break;
      }
    }
    if (values.follow && more) await follow();
    if (!values.json && printed === 0) out(io, 'No events yet.');
    return 0;

    /** New events every second until the session is over and drained, --limit, or Ctrl+C. */
    async function follow(): Promise<void> {
      for (;;) {
        const { status } = await ctx.api.getSession(id);
        for (;;) {
          const page = await ctx.api.sessionLogs(id, { after: cursor, limit: PAGE });
          if (!print(page.events)) return;
          cursor = page.events.at(-1)?.seq ?? cursor;
          if (page.next === undefined) break;
        }
        if (status !== 'active') return;
        if (!(await sleep(FOLLOW_POLL_MS, io.signal))) return;
      }
    }
  } finally {
    await ctx.api.close();
  }
}

function count(command: string, flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) throw new UsageError(`${flag} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${value}"`, command);
  return n;
}

/** False when `signal` aborted (Ctrl+C) before `ms` passed. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `sessions extend <id> --duration 30m`: more time for a session running from `db access` on
 * this machine, in place — the server issues a certificate for the session's key, the running
 * `db access` picks it up through its tunnel, and no open connection drops.
 */
export async function sessionsExtend(argv: string[], io: CliIo): Promise<number> {
  const command = 'sessions extend';
  const { values, positionals } = parse(
    command,
    argv,
    {
      ...COMMON_OPTIONS,
      duration: { type: 'string' },
      json: { type: 'boolean' },
      ...MFA_OPTIONS,
    },
    true,
  );
  const sessionId = positionals[0];
  if (!sessionId || positionals.length > 1) throw new UsageError('give one session id: gatehouse sessions extend <session-id> --duration 30m', command);
  const duration = parseDuration(command, requireString(command, values.duration, '--duration'));
  const mfaMethod = parseMfaMethod(command, values['mfa-method']);
  const ctx = await openContext(io, command, values.domain);
  try {
    const running = await new RunningSessions(ctx.dir).bySession(sessionId);
    if (!running?.publicKeyPem) {
      throw new GatehouseError(
        ErrorCodes.NOT_FOUND,
        `session ${sessionId} is not running from 'gatehouse db access' on this machine; extend it where it runs (the desktop app: Extend), or start a new one with 'gatehouse db access --again ${sessionId}'`,
      );
    }
    const extend = (mfa?: MfaProof) => ctx.api.extendSession(sessionId, { duration, publicKeyPem: running.publicKeyPem!, ...(mfa && { mfa }) });
    let result;
    try {
      result = await extend();
    } catch (e) {
      if (!hasCode(e, ErrorCodes.MFA_REQUIRED)) throw e;
      const proof = await obtainMfaProof(io, {
        command,
        methods: (e as ApiError).details?.challenge?.methods ?? [],
        flagMethod: mfaMethod,
        flagCode: values['mfa-code'],
        sendEmail: () => ctx.api.sendEmailCode(),
      });
      result = await extend({ method: proof.method, code: proof.code });
    }
    if (values.json) out(io, JSON.stringify({ sessionId, expiresAt: result.session.expiresAt }));
    else out(io, `Session ${sessionId} extended until ${localTime(result.session.expiresAt)}; open connections carry on.`);
    return 0;
  } finally {
    await ctx.api.close();
  }
}
