/**
 * `gatehouse db access` meets the access rules: an MFA challenge is answered (prompt or
 * --mfa-code), an account that needs approval gets a request filed (or an open one reused)
 * and the command waits for the decision, then the session starts with it.
 */
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { runAccessGate, type GateAsker, type GateStep } from '../core/access/access-gate.ts';
import type { AccessRequest, AccessStatus } from '../core/access/types.ts';
import type { ApiClient } from '../core/api/api-client.ts';
import type { AccessRequestInfo, MfaMethod } from '../core/api/types.ts';
import { localTime } from './format.ts';
import { err, type CliIo } from './io.ts';
import { obtainMfaProof } from './mfa.ts';
import { prompt } from './prompt.ts';
import { UsageError } from './usage-error.ts';

const COMMAND = 'db access';

export interface GateOptions {
  mfaCode?: string;
  mfaMethod?: MfaMethod;
  reason?: string;
  /** Use this approved request instead of looking for or filing one. */
  requestId?: string;
  /** Stops waiting for approval (Ctrl+C). */
  signal?: AbortSignal;
}

/** Thrown when an access request ends without approval: the CLI exits 1 with the message. */
export class RequestNotApprovedError extends GatehouseError {
  readonly request: AccessRequestInfo;
  constructor(request: AccessRequestInfo, message: string) {
    super(ErrorCodes.FORBIDDEN, message);
    this.request = request;
  }
}

/**
 * Starts the session through `start`, answering MFA and approval refusals on the way: the
 * core's access gate (main/core/access/access-gate.ts) decides; this file words its steps on
 * stderr and asks on the terminal.
 */
export async function startThroughGate(
  io: CliIo,
  api: ApiClient,
  req: AccessRequest,
  opts: GateOptions,
  start: (req: AccessRequest) => Promise<AccessStatus>,
): Promise<AccessStatus> {
  let emailSent = false;
  let flagCodeUsed = false;
  let askedBefore = false;
  let waitingFor: AccessRequestInfo | undefined;
  const ticker = new WaitingLine(io);
  const asker: GateAsker = {
    async mfa({ methods, invalid }) {
      if (invalid) err(io, `${invalid}. Try again.`);
      else if (!askedBefore && opts.mfaCode === undefined) err(io, `${req.account} requires a second factor for each session.`);
      askedBefore = true;
      const proof = await obtainMfaProof(io, {
        command: COMMAND,
        methods,
        flagMethod: opts.mfaMethod,
        flagCode: flagCodeUsed ? undefined : opts.mfaCode,
        sendEmail: async () => {
          if (emailSent) return; // one mail per command; the code stays valid for 10 minutes
          await api.sendEmailCode();
          emailSent = true;
        },
      });
      if (!proof.prompted) flagCodeUsed = true;
      return { method: proof.method, code: proof.code, final: !proof.prompted };
    },
    async reason({ requiredApprovals }) {
      if (!io.stdin.isTTY) {
        throw new UsageError(`${req.account} on ${req.resource} requires approval: pass --reason "why you need access" to file a request`, COMMAND);
      }
      err(
        io,
        `${req.account} on ${req.resource} requires approval${requiredApprovals ? ` (${requiredApprovals} approver${requiredApprovals === 1 ? '' : 's'})` : ''}.`,
      );
      const reason = (await prompt(io, 'Reason for the request (approvers see it): ')).trim();
      if (!reason) throw new UsageError('a reason is required to request approval', COMMAND);
      return reason;
    },
  };
  const onProgress = (step: GateStep) => {
    if (step.step !== 'waiting') ticker.stop();
    switch (step.step) {
      case 'waiting':
        if (waitingFor?.id !== step.request.id) {
          err(
            io,
            step.filed
              ? `Access request ${step.request.id} filed (needs ${step.request.requiredApprovals} approval${step.request.requiredApprovals === 1 ? '' : 's'}).`
              : `You already asked for this access: request ${step.request.id} is pending.`,
          );
        }
        waitingFor = step.request;
        ticker.show(step.request, step.approvals);
        break;
      case 'approved':
        if (waitingFor?.id === step.request.id) err(io, `Approved by ${step.by.join(', ') || 'an approver'}.`);
        else err(io, `Using approved access request ${step.request.id} (window open until ${localTime(step.request.windowEndsAt)}).`);
        break;
      default:
        break;
    }
  };
  try {
    const result = await runAccessGate({ api, start }, req, asker, { reason: opts.reason, requestId: opts.requestId, signal: opts.signal, onProgress });
    if (result.outcome === 'started') return result.session;
    if (result.outcome === 'refused') throw new RequestNotApprovedError(result.request, result.message);
    throw new GatehouseError(ErrorCodes.TIMEOUT, waitingFor ? `stopped waiting for access request ${waitingFor.id}; it stays pending` : 'stopped');
  } finally {
    ticker.stop();
  }
}

/** "Waiting for approval… 1 of 2": one line redrawn each second on a terminal, a line per change elsewhere. */
class WaitingLine {
  readonly #io: CliIo;
  readonly #tty: boolean;
  #timer: NodeJS.Timeout | undefined;
  #started = 0;
  #last = '';
  #text = '';

  constructor(io: CliIo) {
    this.#io = io;
    this.#tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  }

  show(r: AccessRequestInfo, approvals: number): void {
    this.#text = `Waiting for approval… ${approvals} of ${r.requiredApprovals} (request ${r.id}; Ctrl+C stops waiting, the request stays open)`;
    if (!this.#timer && this.#started === 0) this.#started = Date.now();
    if (this.#tty) {
      this.#draw();
      this.#timer ??= setInterval(() => this.#draw(), 1_000);
    } else if (this.#text !== this.#last) {
      err(this.#io, this.#text);
    }
    this.#last = this.#text;
  }

  stop(): void {
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#io.stderr.write('\n');
    }
  }

  #draw(): void {
    this.#io.stderr.write(`\r\x1b[2K${this.#text} ${elapsed(Date.now() - this.#started)}`);
  }
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}
