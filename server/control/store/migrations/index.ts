/**
 * The one migration set, in code, for PGlite and PostgreSQL alike: one file per migration,
 * named by its order. Append new migrations here; never edit one that has shipped.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './0001-initial.ts';
import { accessControlMigration } from './0002-access-control.ts';
import { mfaAuditMigration } from './0003-mfa-audit.ts';
import { mfaTokenUsesMigration } from './0004-mfa-token-uses.ts';
import { authLifecycleMigration } from './0005-auth-lifecycle.ts';
import { linkSecurityMigration } from './0006-link-security.ts';
import { clusterMigration } from './0007-control-replicas.ts';
import { retentionMigration } from './0008-retention.ts';
import { webSessionsMigration } from './0010-web-sessions.ts';

export const migrations: Record<string, Migration> = {
  '0001_initial': initialMigration,
  '0002_access_control': accessControlMigration,
  '0003_mfa_audit': mfaAuditMigration,
  '0004_mfa_token_uses': mfaTokenUsesMigration,
  '0005_auth_lifecycle': authLifecycleMigration,
  '0006_link_security': linkSecurityMigration,
  '0007_control_replicas': clusterMigration,
  '0008_retention': retentionMigration,
  '0010_web_sessions': webSessionsMigration,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
