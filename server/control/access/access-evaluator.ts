/**
 * Which accounts a user may access in a project, for how long, and whether approval is
 * needed. Project admins (and instance admins) may access every account of the project;
 * members what their policies grant (directly or through a group); auditors nothing.
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { Permissions } from '../auth/permissions.ts';
import type { AccountWithResource } from '../store/accounts.ts';
import type { ApprovalRule } from '../store/policies.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';

export interface AccountGrant {
  account: AccountWithResource;
  maxDurationSeconds: number;
  /** Set when sessions on this account need an approved access request. */
  approval: ApprovalRule | undefined;
  /** `admin` for project admins, else the names of the granting policies. */
  via: 'admin' | string[];
}

export class AccessEvaluator {
  readonly #store: Store;
  readonly #permissions: Permissions;
  readonly #maxSessionSeconds: number;

  constructor(options: { store: Store; permissions: Permissions; maxSessionSeconds: number }) {
    this.#store = options.store;
    this.#permissions = options.permissions;
    this.#maxSessionSeconds = options.maxSessionSeconds;
  }

  /** Every account the user may access or request in the project. FORBIDDEN for auditors and outsiders. */
  async grants(user: User, projectId: string): Promise<AccountGrant[]> {
    await this.#permissions.require(user, projectId, 'access');
    const accounts = await this.#store.accounts.listByProject(projectId);
    const rules = await this.#store.policies.approvalRules(accounts.map((a) => a.id));
    if (await this.#permissions.can(user, projectId, 'manage')) {
      return accounts.map((account) => ({ account, maxDurationSeconds: this.#maxSessionSeconds, approval: rules.get(account.id), via: 'admin' as const }));
    }
    const groupIds = new Set(await this.#store.groups.groupIdsOf(user.id, projectId));
    const policies = (await this.#store.policies.listByProject(projectId)).filter(
      (p) => p.userIds.includes(user.id) || p.groupIds.some((g) => groupIds.has(g)),
    );
    const grants: AccountGrant[] = [];
    for (const account of accounts) {
      const matching = policies.filter((p) => p.accountIds.includes(account.id));
      if (matching.length === 0) continue;
      const maxDurationSeconds = Math.min(this.#maxSessionSeconds, Math.max(...matching.map((p) => p.maxDurationSeconds)));
      grants.push({ account, maxDurationSeconds, approval: rules.get(account.id), via: matching.map((p) => p.name) });
    }
    return grants;
  }

  /** The user's grant on one account, or POLICY_DENIED naming what is missing; checks the duration too. */
  async grantFor(user: User, projectId: string, account: AccountWithResource, seconds?: number): Promise<AccountGrant> {
    const grant = (await this.grants(user, projectId)).find((g) => g.account.id === account.id);
    if (!grant) {
      throw new GatehouseError(
        ErrorCodes.POLICY_DENIED,
        `no access policy grants you account "${account.name}" on resource "${account.resource.name}": a project admin must add you (or a group you are in) to a policy that includes this account`,
      );
    }
    if (seconds !== undefined && seconds > grant.maxDurationSeconds) {
      const by = grant.via === 'admin' ? 'the server' : `policy ${grant.via.map((n) => `"${n}"`).join(', ')}`;
      throw new GatehouseError(
        ErrorCodes.POLICY_DENIED,
        `${by} allows at most ${formatSeconds(grant.maxDurationSeconds)} on account "${account.name}"; you asked for ${formatSeconds(seconds)}`,
      );
    }
    return grant;
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
