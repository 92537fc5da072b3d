/**
 * The Access dialog's progress, beyond "pick a duration": a second factor when the server
 * says MFA_REQUIRED, and for accounts that need approval a filed request watched until it
 * is decided (approved → the session starts with it; denied or expired → say so).
 */
import { create } from 'zustand';
import type { AccessRequest, AccessRequestInfo, MfaMethod, MfaProof, SessionStatus } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';
import { useSessionsStore } from './sessions.ts';

export type FlowStep =
  | { step: 'form' }
  /** The server wants a fresh second factor before creating the session. */
  | { step: 'mfa'; methods: MfaMethod[] }
  | { step: 'waiting'; request: AccessRequestInfo }
  | { step: 'refused'; request: AccessRequestInfo; message: string };

interface AccessFlowStore {
  flow: FlowStep;
  busy: boolean;
  error: UiError | undefined;
  /** An approved request in use (kept when MFA is asked for after approval). */
  accessRequestId: string | undefined;
  emailSent: boolean;
  reset(): void;
  /** Starts access; resolves with the session once it runs, or undefined when a step needs the person. */
  submit(req: AccessRequest & { requireApproval: boolean }, mfa?: MfaProof): Promise<SessionStatus | undefined>;
  sendEmailCode(): Promise<void>;
  /** Stops watching a request (it stays open on the server). */
  cancelWaiting(): void;
}

const POLL_FIRST_MS = 1_000;
const POLL_MAX_MS = 4_000;

let watch = 0; // bumped to cancel the current watch loop

export const useAccessFlow = create<AccessFlowStore>()((set, get) => ({
  flow: { step: 'form' },
  busy: false,
  error: undefined,
  accessRequestId: undefined,
  emailSent: false,
  reset() {
    watch++;
    set({ flow: { step: 'form' }, busy: false, error: undefined, accessRequestId: undefined, emailSent: false });
  },
  async submit(req, mfa) {
    set({ busy: true, error: undefined });
    try {
      let accessRequestId = get().accessRequestId;
      if (req.requireApproval && !accessRequestId) {
        const request = await openOrFile(req);
        if (request.status !== 'approved') {
          const decided = await waitFor(request, (r) => set({ flow: { step: 'waiting', request: r } }));
          if (!decided) return undefined; // cancelled
          if (decided.status !== 'approved') {
            set({ flow: { step: 'refused', request: decided, message: refusal(decided) } });
            return undefined;
          }
          accessRequestId = decided.id;
        } else {
          accessRequestId = request.id;
        }
        set({ accessRequestId });
      }
      const { requireApproval: _needsApproval, ...access } = req;
      const status = await useSessionsStore.getState().start({ ...access, ...(mfa ? { mfa } : {}), ...(accessRequestId ? { accessRequestId } : {}) });
      if (status) return status;
      const error = useSessionsStore.getState().startError;
      useSessionsStore.getState().clearStartError();
      if (error?.code === 'GATEHOUSE_ERR_MFA_REQUIRED' || (error?.code === 'GATEHOUSE_ERR_MFA_INVALID' && get().flow.step === 'mfa')) {
        const methods = error.details?.challenge?.methods ?? (get().flow as { methods?: MfaMethod[] }).methods ?? ['totp'];
        set({ flow: { step: 'mfa', methods }, ...(error.code === 'GATEHOUSE_ERR_MFA_INVALID' ? { error } : {}) });
        return undefined;
      }
      if (error?.code === 'GATEHOUSE_ERR_APPROVAL_REQUIRED' && !req.requireApproval) {
        // the account list was stale: ask again with the reason field shown
        if (req.reason) return get().submit({ ...req, requireApproval: true }, mfa);
        set({ flow: { step: 'form' }, error: { ...error, message: 'This account needs approval: give a reason and start again.' } });
        return undefined;
      }
      set({ flow: get().flow.step === 'waiting' ? { step: 'form' } : get().flow, error });
      return undefined;
    } catch (err) {
      set({ error: toUiError(err), flow: get().flow.step === 'waiting' ? { step: 'form' } : get().flow });
      return undefined;
    } finally {
      set({ busy: false });
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
  cancelWaiting() {
    watch++;
    set({ flow: { step: 'form' }, busy: false });
  },
}));

/** An approved request with an open window or a pending one for this account, else a new one. */
async function openOrFile(req: AccessRequest): Promise<AccessRequestInfo> {
  const mine = await ipc['requests.list']({ mine: true }).catch(() => [] as AccessRequestInfo[]);
  const same = (r: AccessRequestInfo) => r.projectId === req.projectId && r.resource.name === req.resource && r.account.name === req.account;
  const open = mine.find((r) => same(r) && r.status === 'approved' && r.windowEndsAt && Date.parse(r.windowEndsAt) > Date.now() + 5_000)
    ?? mine.find((r) => same(r) && r.status === 'pending');
  if (open) return open;
  if (!req.reason?.trim()) throw Object.assign(new Error('Give a reason: this account needs approval.'), { code: 'GATEHOUSE_ERR_INVALID_INPUT' });
  return ipc['requests.create']({ projectId: req.projectId, resource: req.resource, account: req.account, duration: req.duration, reason: req.reason.trim() });
}

/** Polls until decided; undefined when cancelled. */
async function waitFor(request: AccessRequestInfo, onUpdate: (r: AccessRequestInfo) => void): Promise<AccessRequestInfo | undefined> {
  const mine = ++watch;
  let current = request;
  let delay = POLL_FIRST_MS;
  onUpdate(current);
  while (current.status === 'pending') {
    await new Promise((r) => setTimeout(r, delay));
    if (mine !== watch) return undefined;
    try {
      const next = await ipc['requests.get']({ id: current.id });
      if (mine !== watch) return undefined;
      if (next.status !== current.status || next.approvals.length !== current.approvals.length) delay = POLL_FIRST_MS;
      else delay = Math.min(POLL_MAX_MS, Math.round(delay * 1.5));
      current = next;
      onUpdate(current);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'GATEHOUSE_ERR_SERVER_UNREACHABLE' && code !== 'GATEHOUSE_ERR_TIMEOUT') throw err;
      delay = POLL_MAX_MS;
    }
  }
  return current;
}

function refusal(r: AccessRequestInfo): string {
  if (r.status === 'expired') return 'The request expired without a decision.';
  const denial = r.approvals.find((a) => a.decision === 'deny' || a.decision === 'denied');
  const by = denial?.email ?? 'an approver';
  return denial?.comment ? `Denied by ${by}: “${denial.comment}”` : `Denied by ${by}.`;
}

export const accessFlowSelectors = {
  flow: (s: AccessFlowStore) => s.flow,
  busy: (s: AccessFlowStore) => s.busy,
  error: (s: AccessFlowStore) => s.error,
  emailSent: (s: AccessFlowStore) => s.emailSent,
};
