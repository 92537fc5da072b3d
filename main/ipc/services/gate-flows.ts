/**
 * The desktop side of the access gate: each `access.begin` runs main/core's gate under a
 * flowId the renderer chose; its steps go out as `access-progress` events, and the steps that
 * need the person (a code, a reason) wait here for `access.answer`. `access.cancel` stops it.
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { runAccessGate, type GateDeps, type GateMfaAnswer } from '../../core/access/access-gate.ts';
import type { AccessRequest } from '../../core/access/types.ts';
import type { GateOutcome, GateProgress, MfaProof } from '../contract.ts';

type Pending =
  | { kind: 'mfa'; resolve: (proof: GateMfaAnswer) => void; reject: (err: Error) => void }
  | { kind: 'reason'; resolve: (reason: string) => void; reject: (err: Error) => void };

interface Flow {
  abort: AbortController;
  pending?: Pending;
}

export class GateFlows {
  readonly #flows = new Map<string, Flow>();
  readonly #emit: (progress: GateProgress) => void;

  constructor(emit: (progress: GateProgress) => void) {
    this.#emit = emit;
  }

  async run(flowId: string, deps: GateDeps, req: AccessRequest, opts: { reason?: string; requestId?: string }): Promise<GateOutcome> {
    if (this.#flows.has(flowId)) throw new GatehouseError(ErrorCodes.CONFLICT, 'this access flow is already running');
    const flow: Flow = { abort: new AbortController() };
    this.#flows.set(flowId, flow);
    const wait = <T>(kind: Pending['kind']) =>
      new Promise<T>((resolve, reject) => {
        if (flow.abort.signal.aborted) return reject(stopped());
        flow.pending = { kind, resolve, reject } as Pending;
      });
    try {
      const result = await runAccessGate(
        deps,
        req,
        {
          mfa: () => wait<GateMfaAnswer>('mfa'),
          reason: () => wait<string>('reason'),
        },
        {
          ...opts,
          signal: flow.abort.signal,
          onProgress: (step) => this.#emit({ flowId, at: new Date().toISOString(), ...step }),
        },
      );
      return result;
    } finally {
      this.#flows.delete(flowId);
    }
  }

  answer(flowId: string, answer: { mfa?: MfaProof; reason?: string }): void {
    const flow = this.#flows.get(flowId);
    const pending = flow?.pending;
    if (!flow || !pending) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'this access flow is not waiting for an answer');
    if (pending.kind === 'mfa' && answer.mfa) {
      flow.pending = undefined;
      pending.resolve({ method: answer.mfa.method, code: answer.mfa.code });
    } else if (pending.kind === 'reason' && answer.reason) {
      flow.pending = undefined;
      pending.resolve(answer.reason);
    } else {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, `this access flow waits for ${pending.kind === 'mfa' ? 'a code (mfa)' : 'a reason'}`);
    }
  }

  /** Stops a flow; unknown flows are ignored (it may have just finished). */
  cancel(flowId: string): void {
    const flow = this.#flows.get(flowId);
    if (!flow) return;
    flow.abort.abort();
    flow.pending?.reject(stopped());
    flow.pending = undefined;
  }

  cancelAll(): void {
    for (const id of [...this.#flows.keys()]) this.cancel(id);
  }
}

function stopped(): GatehouseError {
  return new GatehouseError(ErrorCodes.TIMEOUT, 'stopped');
}
