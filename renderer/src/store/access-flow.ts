/**
 * The Access dialog's view of the access gate (main/core/access): the main process runs the
 * one state machine (policy, MFA, approval, start) and pushes each step as `access-progress`;
 * this store only keeps the current flow's step and sends the person's answers back.
 */
import { create } from 'zustand';
import type { AccessRequest, AccessRequestInfo, GateOutcome, GateProgress, GateStep, MfaProof, SessionStatus } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';
import { useSessionsStore } from './sessions.ts';

/** The dialog's step: the form until a gate runs, then the gate's own steps. */
export type FlowStep = { step: 'form' } | Exclude<GateStep, { step: 'failed' | 'cancelled' | 'started' }>;

interface AccessFlowStore {
  flowId: string | undefined;
  flow: FlowStep;
  busy: boolean;
  error: UiError | undefined;
  emailSent: boolean;
  reset(): void;
  /** Starts access through the gate; resolves with the session once it runs, else undefined. */
  begin(req: AccessRequest): Promise<SessionStatus | undefined>;
  /** Starts a new session like an ended one (same account and duration), through the gate. */
  accessAgain(sessionId: string): Promise<SessionStatus | undefined>;
  /** Answers the gate's current question (a second factor or a reason). */
  answer(answer: { mfa?: MfaProof; reason?: string }): Promise<void>;
  sendEmailCode(): Promise<void>;
  /** Stops the gate (a pending request stays open on the server). */
  cancel(): Promise<void>;
  /** An `access-progress` event from the main process. */
  progress(p: GateProgress): void;
}

export const useAccessFlow = create<AccessFlowStore>()((set, get) => {
  async function run(flowId: string, call: () => Promise<GateOutcome>): Promise<SessionStatus | undefined> {
    set({ flowId, flow: { step: 'starting' }, busy: true, error: undefined, emailSent: false });
    try {
      const outcome = await call();
      if (get().flowId !== flowId) return undefined;
      if (outcome.outcome === 'started') {
        useSessionsStore.getState().upsert(outcome.session);
        set({ busy: false, flowId: undefined, flow: { step: 'form' } });
        return outcome.session;
      }
      if (outcome.outcome === 'refused') set({ busy: false, flow: { step: 'refused', request: outcome.request, message: refusal(outcome.request) } });
      else set({ busy: false, flowId: undefined, flow: { step: 'form' } });
      return undefined;
    } catch (err) {
      if (get().flowId === flowId) set({ busy: false, flowId: undefined, flow: { step: 'form' }, error: toUiError(err) });
      return undefined;
    }
  }
  return {
    flowId: undefined,
    flow: { step: 'form' },
    busy: false,
    error: undefined,
    emailSent: false,
    reset() {
      set({ flowId: undefined, flow: { step: 'form' }, busy: false, error: undefined, emailSent: false });
    },
    begin(req) {
      const flowId = crypto.randomUUID();
      return run(flowId, () => ipc['access.begin']({ ...req, flowId }));
    },
    accessAgain(sessionId) {
      const flowId = crypto.randomUUID();
      return run(flowId, () => ipc['sessions.accessAgain']({ sessionId, flowId }));
    },
    async answer(answer) {
      const flowId = get().flowId;
      if (!flowId) return;
      set({ busy: true, error: undefined });
      try {
        await ipc['access.answer']({ flowId, ...answer });
      } catch (err) {
        set({ busy: false, error: toUiError(err) });
      }
    },
    async sendEmailCode() {
      set({ error: undefined });
      try {
        await ipc['auth.sendEmailCode']({});
        set({ emailSent: true });
      } catch (err) {
        set({ error: toUiError(err) });
      }
    },
    async cancel() {
      const flowId = get().flowId;
      get().reset();
      if (flowId) await ipc['access.cancel']({ flowId }).catch(() => undefined);
    },
    progress(p) {
      if (p.flowId !== get().flowId) return;
      const { flowId: _id, at: _at, ...step } = p;
      switch (step.step) {
        case 'failed':
          set({ busy: false, error: toUiError(step.error), flow: { step: 'form' } });
          break;
        case 'started':
        case 'cancelled':
          break; // the begin call resolves with it
        case 'mfa':
          set({ busy: false, flow: step, error: step.invalid ? { code: 'GATEHOUSE_ERR_MFA_INVALID', message: sentence(step.invalid) } : undefined });
          break;
        case 'starting':
        case 'approved':
          set({ busy: true, flow: step });
          break;
        case 'refused':
          set({ busy: false, flow: { ...step, message: refusal(step.request) } });
          break;
        default:
          set({ busy: false, flow: step });
      }
    },
  };
});

/** The denial in the app's words: who denied it and their comment, or that it expired. */
function refusal(r: AccessRequestInfo): string {
  if (r.status === 'expired') return 'The request expired without a decision.';
  const denial = r.approvals.find((a) => a.decision === 'deny' || a.decision === 'denied');
  const by = denial?.email ?? 'an approver';
  return denial?.comment ? `Denied by ${by}: “${denial.comment}”` : `Denied by ${by}.`;
}

function sentence(message: string): string {
  const m = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(m) ? m : `${m}.`;
}

export const accessFlowSelectors = {
  flow: (s: AccessFlowStore) => s.flow,
  busy: (s: AccessFlowStore) => s.busy,
  error: (s: AccessFlowStore) => s.error,
  emailSent: (s: AccessFlowStore) => s.emailSent,
};
