import { startThroughGate } from '../access-gate.ts';
import { COMMON_OPTIONS, parse, parseDuration, parsePort, requireString } from '../args.ts';
import { openContext } from '../context.ts';
import { err, out, type CliIo } from '../io.ts';
import { MFA_OPTIONS, parseMfaMethod } from '../mfa.ts';
import { ErrorCodes, type GatehouseError } from '../../../proxy-core/src/errors.ts';
import { describeTimeLeft } from '../../../proxy-core/src/local/client-errors.ts';
import { EXPIRY_WARNING_MS } from '../../../proxy-core/src/local/local-proxy.ts';
import { hasCode } from '../../core/api/api-errors.ts';
import { localTime } from '../format.ts';
import { resolveProject } from '../project.ts';
import { RunningSessions, type RunningSession } from '../running-sessions.ts';
import { UsageError } from '../usage-error.ts';
import { connectionUrl } from '../../core/access/connection-url.ts';
import type { AccessStatus } from '../../core/access/types.ts';

const COMMAND = 'db access';
const ENDED_LINGER_MS = 3_000;

/**
 * Starts access and keeps it until Ctrl+C / SIGTERM / the IO's abort signal (then ends the
 * session on the server) or until the session ends by itself (expiry, revocation).
 */
export async function dbAccess(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    COMMAND,
    argv,
    {
      ...COMMON_OPTIONS,
      resource: { type: 'string' },
      account: { type: 'string' },
      'project-id': { type: 'string' },
      duration: { type: 'string', default: '1h' },
      port: { type: 'string' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
      'request-id': { type: 'string' },
      'local-password': { type: 'boolean' },
      again: { type: 'string' },
      ...MFA_OPTIONS,
    },
    true,
  );
  if (positionals.length > 0) {
    throw new UsageError(
      `unexpected "${positionals.join(' ')}": name them with flags, e.g. --resource ${positionals[0]} --account ${positionals[1] ?? 'A'}`,
      COMMAND,
    );
  }
  const mfaMethod = parseMfaMethod(COMMAND, values['mfa-method']);
  const again = values.again;
  if (again !== undefined && (values.resource !== undefined || values.account !== undefined)) {
    throw new UsageError('--again takes the resource and account of that session: leave out --resource and --account', COMMAND);
  }
  let resource = again === undefined ? requireString(COMMAND, values.resource, '--resource') : '';
  let account = again === undefined ? requireString(COMMAND, values.account, '--account') : '';
  let duration = parseDuration(COMMAND, values.duration);
  const port = parsePort(COMMAND, values.port);

  const ctx = await openContext(io, COMMAND, values.domain);
  let projectId: string;
  let running: RunningSessions;
  let againProject: string | undefined;
  try {
    if (again !== undefined) {
      // Access again: the same account (and, unless --duration is given, the same length) as that session
      const previous = await ctx.api.getSession(again);
      if (previous.status === 'active' && Date.parse(previous.expiresAt) > Date.now()) {
        throw new UsageError(
          `session ${again} is still active (until ${localTime(previous.expiresAt)}): use it, or 'gatehouse sessions extend ${again} --duration 30m'`,
          COMMAND,
        );
      }
      againProject = previous.projectId;
      resource = previous.resource.name;
      account = previous.account.name;
      if (!argv.some((a) => a === '--duration' || a.startsWith('--duration='))) {
        duration = Math.max(60, Math.round((Date.parse(previous.expiresAt) - Date.parse(previous.createdAt)) / 1000));
      }
      err(io, `Access again: ${account} on ${resource} for ${typeof duration === 'number' ? describeTimeLeft(duration * 1000) : duration}.`);
    }
    projectId = againProject ?? (await resolveProject(ctx, COMMAND, values['project-id'])).id;
    running = new RunningSessions(ctx.dir);
    const already = await running.forAccount({ domain: ctx.domain, projectId, resource, account });
    if (already) {
      err(io, alreadyRunning(already));
      await ctx.api.close();
      return 1;
    }
  } catch (e) {
    await ctx.api.close();
    throw e;
  }
  const { SessionManager } = await import('../../core/access/session-manager.ts');
  // After expiry or revocation the port keeps answering with a clear FATAL for a moment, so
  // clients that reconnect see why instead of "connection refused".
  const manager = new SessionManager({ api: ctx.api, settings: ctx.settings, endedLingerMs: ENDED_LINGER_MS });
  // Ctrl+C while waiting for approval stops waiting; once running it ends the session.
  const interrupted = waitForInterrupt(io);
  const stopWaiting = new AbortController();
  void interrupted.promise.then(() => stopWaiting.abort());
  let forget: (() => Promise<void>) | undefined;
  let warning: NodeJS.Timeout | undefined;
  try {
    // The tunnel to the server dropped (server restart, network, a replica gone) and comes back by itself.
    manager.on('tunnel', (notice) => {
      if (notice.state === 'lost') err(io, 'gatehouse: connection to Gatehouse lost, reconnecting…');
      else err(io, 'gatehouse: reconnected to Gatehouse.');
    });
    const ended = new Promise<AccessStatus>((resolve) => {
      manager.on('status', (s) => {
        if (s.state === 'ended' || s.state === 'error') resolve(s);
      });
    });
    const ready = await startThroughGate(
      io,
      ctx.api,
      { projectId, resource, account, duration, port, ...(values['local-password'] === true && { localPassword: true }) },
      { mfaCode: values['mfa-code'], mfaMethod, reason: values.reason, requestId: values['request-id'], signal: stopWaiting.signal },
      (req) =>
        manager.start(req).catch(async (e: unknown) => {
          const taken = hasCode(e, ErrorCodes.PORT_IN_USE) ? (e as GatehouseError).details?.port : undefined;
          if (taken === undefined) throw e;
          const holder = await running.onPort(taken);
          if (holder) throw new Error(alreadyRunning(holder).replace(/^gatehouse: /, ''));
          throw new Error(
            `port ${taken}${port === undefined ? ", this account's usual one," : ''} is in use by another program (the desktop app may have a session for this account: use or stop that one); or pick another port with --port`,
          );
        }),
    );
    printReady(io, ready, values.json === true);
    const entry = {
      pid: process.pid,
      domain: ctx.domain,
      projectId,
      resource,
      account,
      resourceName: ready.resourceName,
      accountName: ready.accountName,
      port: ready.port,
      url: ready.url,
      sessionId: ready.sessionId,
      expiresAt: ready.expiresAt,
      publicKeyPem: manager.publicKeyOf(ready.sessionId),
    };
    forget = await running.add(entry);
    warning = warnBeforeExpiry(io, ready);
    // extended (here or from another terminal with 'sessions extend'): the proxy already follows; say so
    manager.on('extended', (s) => {
      if (warning) clearTimeout(warning);
      warning = warnBeforeExpiry(io, s);
      err(io, `Session extended until ${localTime(s.expiresAt)}; open connections carry on.`);
      void running.add({ ...entry, expiresAt: s.expiresAt });
    });

    const outcome = await Promise.race([ended, interrupted.promise]);
    if (outcome === 'interrupt') {
      await manager.stop(ready.sessionId);
      err(io, 'Session ended.');
      return 0;
    }
    if (outcome.state === 'error') {
      err(io, `gatehouse: the session ended with an error: ${outcome.error?.message ?? 'unknown error'}`);
      return 1;
    }
    err(io, `Session ${describeEnd(outcome.endReason)}.`);
    return 0;
  } finally {
    if (warning) clearTimeout(warning);
    await forget?.();
    interrupted.dispose();
    await manager.close();
    await ctx.api.close();
  }
}

/** Prints how to connect; a local password (--local-password) is printed here once, in the URL. */
function printReady(io: CliIo, s: AccessStatus & { localPassword?: string }, json: boolean): void {
  const url = s.localPassword !== undefined ? connectionUrl({ username: s.username, port: s.port, database: s.database, password: s.localPassword }) : s.url;
  if (json) {
    out(
      io,
      JSON.stringify({ url, port: s.port, sessionId: s.sessionId, expiresAt: s.expiresAt, ...(s.localPassword !== undefined && { localPassword: true }) }),
    );
    return;
  }
  const jdbcPassword = s.localPassword !== undefined ? `&password=${encodeURIComponent(s.localPassword)}` : '';
  out(io, `Access to ${s.accountName} on ${s.resourceName} is ready until ${new Date(s.expiresAt).toLocaleString()}.`);
  out(io, '');
  out(io, `  URL:   ${url}`);
  out(io, `  psql:  psql "${url}"`);
  out(io, `  JDBC:  jdbc:postgresql://127.0.0.1:${s.port}/${encodeURIComponent(s.database)}?user=${encodeURIComponent(s.username)}${jdbcPassword}`);
  out(io, '');
  if (s.localPassword !== undefined) {
    out(io, `Session ${s.sessionId}. The local password for this session is in the URL above; it is not shown again. Press Ctrl+C to end the session.`);
  } else {
    out(io, `Session ${s.sessionId}. No password needed. Press Ctrl+C to end the session.`);
  }
}

/** Another `db access` on this machine already serves this account: point at it. */
function alreadyRunning(s: RunningSession): string {
  return [
    `gatehouse: ${s.accountName} on ${s.resourceName} already has a running session on this machine (session ${s.sessionId}, until ${localTime(s.expiresAt)}). Use it:`,
    `  URL:   ${s.url}`,
    `  psql:  psql "${s.url}"`,
    `or end it first: Ctrl+C where it runs, or kill ${s.pid}.`,
  ].join('\n');
}

/** Like the desktop app: a warning on stderr 5 minutes before expiry (at once for shorter sessions). */
function warnBeforeExpiry(io: CliIo, s: AccessStatus): NodeJS.Timeout {
  const expiresAt = Date.parse(s.expiresAt);
  const timer = setTimeout(
    () => {
      err(
        io,
        `Session ${s.sessionId} expires in ${describeTimeLeft(expiresAt - Date.now())} (at ${localTime(s.expiresAt)}); open connections are closed then. Run gatehouse db access again for a new one.`,
      );
    },
    Math.max(0, expiresAt - EXPIRY_WARNING_MS - Date.now()),
  );
  timer.unref();
  return timer;
}

function describeEnd(reason: AccessStatus['endReason']): string {
  switch (reason) {
    case 'expired':
      return 'expired';
    case 'revoked':
      return 'revoked by an administrator';
    case 'ended':
      return 'ended on the server';
    default:
      return 'ended';
  }
}

function waitForInterrupt(io: CliIo): { promise: Promise<'interrupt'>; dispose(): void } {
  let onSignal: () => void = () => undefined;
  const promise = new Promise<'interrupt'>((resolve) => {
    onSignal = () => resolve('interrupt');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (io.signal?.aborted) onSignal();
    io.signal?.addEventListener('abort', onSignal, { once: true });
  });
  return {
    promise,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      io.signal?.removeEventListener('abort', onSignal);
    },
  };
}
