/**
 * The client-profiles domain: the psql service entries and DBeaver connections the main
 * process wrote for the person's accounts (so saved connections keep working across sessions).
 */
import { create } from 'zustand';
import type { ClientProfile, ProfileTarget } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';

interface ProfilesStore {
  profiles: ClientProfile[];
  loaded: boolean;
  /** Per account key: a write/remove in flight, or its error. */
  busy: Record<string, boolean>;
  errors: Record<string, UiError | undefined>;
  load(): Promise<void>;
  write(target: ProfileTarget): Promise<boolean>;
  remove(target: ProfileTarget): Promise<boolean>;
}

export function profileKey(t: { projectId?: string; resource: string; account: string }): string {
  return `${t.projectId ?? ''}/${t.resource}/${t.account}`;
}

export const useProfilesStore = create<ProfilesStore>()((set, get) => {
  async function change(target: ProfileTarget, call: () => Promise<ClientProfile[]>): Promise<boolean> {
    const key = profileKey(target);
    set((s) => ({ busy: { ...s.busy, [key]: true }, errors: { ...s.errors, [key]: undefined } }));
    try {
      await call();
      await get().load();
      return true;
    } catch (err) {
      set((s) => ({ errors: { ...s.errors, [key]: toUiError(err) } }));
      return false;
    } finally {
      set((s) => ({ busy: { ...s.busy, [key]: false } }));
    }
  }
  return {
    profiles: [],
    loaded: false,
    busy: {},
    errors: {},
    async load() {
      try {
        set({ profiles: await ipc['profiles.list'](), loaded: true });
      } catch (err) {
        set({ loaded: true, errors: { ...get().errors, '': toUiError(err) } });
      }
    },
    write: (target) => change(target, () => ipc['profiles.write'](target)),
    remove: (target) => change(target, () => ipc['profiles.remove'](target)),
  };
});

/** The last result per account key, so the selector returns the same array for the same input. */
const forMemo = new Map<string, { from: ClientProfile[]; result: ClientProfile[] }>();

export const profileSelectors = {
  /** The profiles written for one account (same array while nothing changed). */
  forAccount:
    (t: { projectId: string; resource: string; account: string }) =>
    (s: ProfilesStore): ClientProfile[] => {
      const key = profileKey(t);
      const memo = forMemo.get(key);
      if (memo?.from === s.profiles) return memo.result;
      const result = s.profiles.filter(
        (p) => p.resource === t.resource && p.account === t.account && (p.projectId === undefined || p.projectId === t.projectId),
      );
      forMemo.set(key, { from: s.profiles, result });
      return result;
    },
  busy: (key: string) => (s: ProfilesStore) => s.busy[key] === true,
  error: (key: string) => (s: ProfilesStore) => s.errors[key],
};
