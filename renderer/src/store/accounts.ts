/** The accounts domain: what the person may access, grouped by resource, and the search. */
import { create, type StateCreator } from 'zustand';
import type { AccountGroup } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';

interface ListSlice {
  groups: AccountGroup[];
  status: 'idle' | 'loading' | 'loaded' | 'error';
  error: UiError | undefined;
  load(): Promise<void>;
  rememberPort(projectId: string, resourceName: string, accountName: string, port: number): void;
}
interface SearchSlice {
  query: string;
  setQuery(query: string): void;
}
type AccountsStore = ListSlice & SearchSlice;

const listSlice: StateCreator<AccountsStore, [], [], ListSlice> = (set, get) => ({
  groups: [],
  status: 'idle',
  error: undefined,
  async load() {
    set({ status: 'loading', error: undefined });
    try {
      set({ groups: await ipc['accounts.list'](), status: 'loaded' });
    } catch (err) {
      set({ status: 'error', error: toUiError(err) });
    }
  },
  rememberPort(projectId, resourceName, accountName, port) {
    set({
      groups: get().groups.map((g) =>
        g.projectId !== projectId || g.resource.name !== resourceName
          ? g
          : {
              ...g,
              accounts: g.accounts.map((a) => (a.name === accountName ? { ...a, port } : a)),
            },
      ),
    });
  },
});

const searchSlice: StateCreator<AccountsStore, [], [], SearchSlice> = (set) => ({
  query: '',
  setQuery: (query) => set({ query }),
});

export const useAccountsStore = create<AccountsStore>()((...a) => ({ ...listSlice(...a), ...searchSlice(...a) }));

function matches(text: string, query: string): boolean {
  return text.toLowerCase().includes(query);
}

function filterGroups(groups: AccountGroup[], query: string): AccountGroup[] {
  const q = query.trim().toLowerCase();
  if (!q) return groups;
  return groups
    .map((g) =>
      matches(`${g.resource.name} ${g.resource.database} ${g.projectName}`, q)
        ? g
        : { ...g, accounts: g.accounts.filter((a) => matches(`${a.name} ${a.username} ${a.description}`, q)) },
    )
    .filter((g) => g.accounts.length > 0);
}

/** The last filter result, so the selector returns the same array for the same input. */
let filterMemo: { groups: AccountGroup[]; query: string; result: AccountGroup[] } = { groups: [], query: '', result: [] };

export const accountSelectors = {
  status: (s: AccountsStore) => s.status,
  error: (s: AccountsStore) => s.error,
  query: (s: AccountsStore) => s.query,
  /** Groups with only the accounts matching the search (a resource name match keeps all); memoized. */
  filteredGroups: (s: AccountsStore): AccountGroup[] => {
    if (filterMemo.groups !== s.groups || filterMemo.query !== s.query) {
      filterMemo = { groups: s.groups, query: s.query, result: filterGroups(s.groups, s.query) };
    }
    return filterMemo.result;
  },
  count: (s: AccountsStore) => s.groups.reduce((n, g) => n + g.accounts.length, 0),
  /** The longest session an account's policy allows (seconds), when known. */
  maxDuration:
    (projectId: string, resource: string, account: string) =>
    (s: AccountsStore): number | undefined =>
      s.groups.find((g) => g.projectId === projectId && g.resource.name === resource)?.accounts.find((a) => a.name === account)?.maxDurationSeconds,
};
