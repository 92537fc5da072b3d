/**
 * The control plane's store: one kysely database (PGlite or PostgreSQL) and a typed
 * repository per table.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { openDatabase, type DatabaseTarget } from './database.ts';
import { createUsersRepo } from './users.ts';
import { createRefreshTokensRepo } from './refresh-tokens.ts';
import { createProjectsRepo } from './projects.ts';
import { createGatewaysRepo } from './gateways.ts';
import { createResourcesRepo } from './resources.ts';
import { createAccountsRepo } from './accounts.ts';
import { createSessionsRepo } from './sessions.ts';
import { createSessionEventsRepo } from './session-events.ts';
import { createAuditEventsRepo } from './audit-events.ts';
import { createSettingsRepo } from './settings.ts';
import { createUserAdminRepo } from './user-admin.ts';
import { createInvitationsRepo } from './invitations.ts';
import { createGroupsRepo } from './groups.ts';
import { createPoliciesRepo } from './policies.ts';
import { createAccessRequestsRepo } from './access-requests.ts';
import { createGatewayLinkChallengesRepo } from './gateway-link-challenges.ts';
import { createWebQueryHistoryRepo } from './web-query-history.ts';

export type { DatabaseTarget };

export interface Store {
  db: Kysely<Database>;
  users: ReturnType<typeof createUsersRepo>;
  refreshTokens: ReturnType<typeof createRefreshTokensRepo>;
  projects: ReturnType<typeof createProjectsRepo>;
  gateways: ReturnType<typeof createGatewaysRepo>;
  resources: ReturnType<typeof createResourcesRepo>;
  accounts: ReturnType<typeof createAccountsRepo>;
  sessions: ReturnType<typeof createSessionsRepo>;
  sessionEvents: ReturnType<typeof createSessionEventsRepo>;
  auditEvents: ReturnType<typeof createAuditEventsRepo>;
  settings: ReturnType<typeof createSettingsRepo>;
  userAdmin: ReturnType<typeof createUserAdminRepo>;
  invitations: ReturnType<typeof createInvitationsRepo>;
  groups: ReturnType<typeof createGroupsRepo>;
  policies: ReturnType<typeof createPoliciesRepo>;
  accessRequests: ReturnType<typeof createAccessRequestsRepo>;
  gatewayLinkChallenges: ReturnType<typeof createGatewayLinkChallengesRepo>;
  webQueryHistory: ReturnType<typeof createWebQueryHistoryRepo>;
  close(): Promise<void>;
}

/** Opens the database and runs pending migrations. */
export async function openStore(target: DatabaseTarget): Promise<Store> {
  const db = await openDatabase(target);
  let closing: Promise<void> | undefined;
  return {
    db,
    users: createUsersRepo(db),
    refreshTokens: createRefreshTokensRepo(db),
    projects: createProjectsRepo(db),
    gateways: createGatewaysRepo(db),
    resources: createResourcesRepo(db),
    accounts: createAccountsRepo(db),
    sessions: createSessionsRepo(db),
    sessionEvents: createSessionEventsRepo(db),
    auditEvents: createAuditEventsRepo(db),
    settings: createSettingsRepo(db),
    userAdmin: createUserAdminRepo(db),
    invitations: createInvitationsRepo(db),
    groups: createGroupsRepo(db),
    policies: createPoliciesRepo(db),
    accessRequests: createAccessRequestsRepo(db),
    gatewayLinkChallenges: createGatewayLinkChallengesRepo(db),
    webQueryHistory: createWebQueryHistoryRepo(db),
    close: () => (closing ??= db.destroy()),
  };
}

/** PGlite in the data dir unless a PostgreSQL URL is configured. */
export function storeTarget(config: { dataDir: string; databaseUrl?: string }): DatabaseTarget {
  return config.databaseUrl !== undefined ? { kind: 'postgres', connectionString: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir };
}
