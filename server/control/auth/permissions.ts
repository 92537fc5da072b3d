/**
 * Who may do what: every authorization decision goes through here.
 * The instance admin (the bootstrap user) may do everything. In a project, `admin` manages
 * it, `member` may list the accounts they can use and open their own sessions, `auditor`
 * may read every session and its logs.
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import type { ProjectRole } from '../store/schema.ts';
import type { SessionRecord } from '../store/sessions.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';

export type ProjectAction = 'read' | 'manage' | 'access' | 'audit';

const GRANTS: Record<ProjectRole, readonly ProjectAction[]> = {
  admin: ['read', 'manage', 'access', 'audit'],
  member: ['read', 'access'],
  auditor: ['read', 'audit'],
};

const DESCRIPTIONS: Record<ProjectAction, string> = {
  read: 'see this project',
  manage: 'manage this project (project admin role needed)',
  access: 'open sessions in this project',
  audit: "read other people's sessions in this project",
};

export class Permissions {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  requireInstanceAdmin(user: User): void {
    if (!user.isAdmin) throw forbidden('only an instance administrator may do this');
  }

  async can(user: User, projectId: string, action: ProjectAction): Promise<boolean> {
    if (user.isAdmin) return true;
    const role = await this.#store.projects.roleOf(projectId, user.id);
    return role !== undefined && GRANTS[role].includes(action);
  }

  async require(user: User, projectId: string, action: ProjectAction): Promise<void> {
    if (!(await this.can(user, projectId, action))) throw forbidden(`you may not ${DESCRIPTIONS[action]}`);
  }

  /** Project ids where the user may do `action`; undefined means every project. */
  async projectsWhere(user: User, action: ProjectAction): Promise<string[] | undefined> {
    if (user.isAdmin) return undefined;
    const projects = await this.#store.projects.listForUser(user.id);
    return projects.filter((p) => GRANTS[p.role].includes(action)).map((p) => p.id);
  }

  async canSeeSession(user: User, session: SessionRecord): Promise<boolean> {
    return session.userId === user.id || (await this.can(user, session.projectId, 'audit'));
  }

  async requireEndSession(user: User, session: SessionRecord): Promise<void> {
    if (session.userId !== user.id && !(await this.can(user, session.projectId, 'manage'))) {
      throw forbidden('only the owner of a session or a project admin may end it');
    }
  }

  async requireRevokeSession(user: User, session: SessionRecord): Promise<void> {
    if (!(await this.can(user, session.projectId, 'manage'))) throw forbidden('only a project admin may revoke a session');
  }

  /** Gateways without a project are instance-wide: instance admins manage them. */
  async requireManageGateway(user: User, projectId: string | null): Promise<void> {
    if (projectId === null) return this.requireInstanceAdmin(user);
    return this.require(user, projectId, 'manage');
  }
}

function forbidden(message: string): GatehouseError {
  return new GatehouseError(ErrorCodes.FORBIDDEN, message);
}
