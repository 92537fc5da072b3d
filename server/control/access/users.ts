/**
 * User administration: invitations (one-time code, 72 h), listing, disabling, MFA reset and
 * deletion.
 * Disabling or deleting a user ends their live sessions at once; their tokens are refused
 * from the next request on (the authenticator reads `disabled` on every request).
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { InvalidInputError, notFound } from '../api/errors.ts';
import type { Audit } from '../audit.ts';
import { createMfaRepo } from '../auth/mfa/mfa-repo.ts';
import { createOpaqueToken, hashOpaqueToken } from '../auth/opaque-tokens.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { Permissions } from '../auth/permissions.ts';
import type { SessionService } from '../sessions.ts';
import type { Invitation } from '../store/invitations.ts';
import type { ProjectRole } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';

export const INVITATION_TTL_MS = 72 * 3600 * 1000;

export interface InviteInput {
  email: string;
  name?: string;
  projectId?: string;
  role?: ProjectRole;
}

export class UserService {
  readonly #store: Store;
  readonly #permissions: Permissions;
  readonly #sessions: SessionService;
  readonly #audit: Audit;

  constructor(options: { store: Store; permissions: Permissions; sessions: SessionService; audit: Audit }) {
    this.#store = options.store;
    this.#permissions = options.permissions;
    this.#sessions = options.sessions;
    this.#audit = options.audit;
  }

  /** Instance admins invite anyone; project admins only into their project. Returns the one-time code. */
  async invite(actor: User, input: InviteInput, sourceAddress: string | null): Promise<{ invitation: Invitation; code: string }> {
    if (input.projectId !== undefined) {
      const project = await this.#store.projects.findById(input.projectId);
      if (!project || !(await this.#permissions.can(actor, project.id, 'read'))) throw notFound('project');
      await this.#permissions.require(actor, project.id, 'manage');
    } else {
      if (input.role !== undefined) throw new InvalidInputError('role: give projectId with role', 'role');
      this.#permissions.requireInstanceAdmin(actor);
    }
    if (await this.#store.users.findByEmail(input.email)) throw new GatehouseError(ErrorCodes.CONFLICT, `a user with email ${input.email} already exists`);
    const { token: code, hash } = createOpaqueToken('ghi');
    const invitation = await this.#store.invitations.create({
      email: input.email.trim().toLowerCase(),
      name: input.name ?? null,
      projectId: input.projectId ?? null,
      role: input.projectId !== undefined ? (input.role ?? 'member') : null,
      codeHash: hash,
      invitedBy: actor.id,
      expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
    });
    await this.#audit({
      actor,
      action: 'user.invite',
      targetType: 'invitation',
      targetId: invitation.id,
      sourceAddress,
      details: { email: invitation.email, projectId: invitation.projectId, role: invitation.role, expiresAt: invitation.expiresAt.toISOString() },
    });
    return { invitation, code };
  }

  /** Uses an invitation once: creates the user with the chosen password and the invited role. */
  async acceptInvitation(input: { code: string; password: string; name?: string }, sourceAddress: string | null): Promise<User> {
    const invitation = await this.#store.invitations.consume(hashOpaqueToken(input.code), new Date());
    if (!invitation) {
      await this.#audit({ actor: null, action: 'user.invitation_invalid', targetType: 'invitation', targetId: null, sourceAddress });
      throw new GatehouseError(ErrorCodes.INVITATION_INVALID, 'this invitation is unknown, already used or expired; ask an admin for a new one');
    }
    const user = await this.#store.users.create({
      email: invitation.email,
      name: input.name ?? invitation.name ?? invitation.email,
      passwordHash: await hashPassword(input.password),
      isAdmin: false,
    });
    if (invitation.projectId !== null && invitation.role !== null) {
      await this.#store.projects.setMember(invitation.projectId, user.id, invitation.role);
    }
    await this.#audit({
      actor: user,
      action: 'user.invitation_accept',
      targetType: 'user',
      targetId: user.id,
      sourceAddress,
      details: { invitationId: invitation.id, email: user.email, projectId: invitation.projectId, role: invitation.role },
    });
    return user;
  }

  async list(actor: User): Promise<User[]> {
    this.#permissions.requireInstanceAdmin(actor);
    return this.#store.userAdmin.list();
  }

  async update(actor: User, id: string, patch: { disabled?: boolean; name?: string; isAdmin?: boolean }, sourceAddress: string | null): Promise<User> {
    this.#permissions.requireInstanceAdmin(actor);
    if (id === actor.id && (patch.disabled === true || patch.isAdmin === false)) {
      throw new GatehouseError(ErrorCodes.FORBIDDEN, 'you cannot disable yourself or drop your own admin rights; ask another admin');
    }
    const user = await this.#store.userAdmin.update(id, patch);
    if (!user) throw notFound('user');
    if (patch.disabled === true) await this.#store.refreshTokens.revokeAllOf(user.id, 'user_disabled', new Date());
    const ended = patch.disabled === true ? await this.#sessions.revokeAllOf(actor, user.id, sourceAddress) : 0;
    await this.#audit({ actor, action: 'user.update', targetType: 'user', targetId: user.id, sourceAddress, details: { email: user.email, ...patch, ...(ended > 0 && { sessionsEnded: ended }) } });
    return user;
  }

  /**
   * Removes another user's TOTP and recovery codes (a lost phone): their next sign-in asks for
   * enrollment again where the organization enforces TOTP. Not for yourself: turning off your
   * own TOTP needs a code (DELETE /me/mfa/totp), so an admin's stolen password cannot skip it.
   */
  async resetMfa(actor: User, id: string, sourceAddress: string | null): Promise<void> {
    this.#permissions.requireInstanceAdmin(actor);
    if (id === actor.id) throw new GatehouseError(ErrorCodes.FORBIDDEN, 'you cannot reset your own MFA; turn TOTP off with a code, or ask another admin');
    const user = await this.#store.users.findById(id);
    if (!user) throw notFound('user');
    await createMfaRepo(this.#store.db).disable(id);
    await this.#audit({ actor, action: 'user.mfa_reset', targetType: 'user', targetId: id, sourceAddress, details: { email: user.email } });
  }

  async delete(actor: User, id: string, sourceAddress: string | null): Promise<void> {
    this.#permissions.requireInstanceAdmin(actor);
    if (id === actor.id) throw new GatehouseError(ErrorCodes.FORBIDDEN, 'you cannot delete yourself; ask another admin');
    const user = await this.#store.users.findById(id);
    if (!user) throw notFound('user');
    // Refuse the tokens first, then end the sessions, then remove the row.
    await this.#store.userAdmin.update(id, { disabled: true });
    const ended = await this.#sessions.revokeAllOf(actor, id, sourceAddress);
    await this.#store.userAdmin.delete(id);
    await this.#audit({ actor, action: 'user.delete', targetType: 'user', targetId: id, sourceAddress, details: { email: user.email, sessionsEnded: ended } });
  }
}
