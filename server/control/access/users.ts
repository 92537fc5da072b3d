/**
 * User administration: invitations (one-time code, 72 h), listing, disabling, MFA reset and
 * deletion.
 * Disabling or deleting a user ends their live sessions at once; their tokens are refused
 * from the next request on (the authenticator reads `disabled` on every request).
 */
import { ErrorCodes, GatehouseError, InvalidInputError, notFound } from '../../../proxy-core/src/errors.ts';
import type { Audit } from '../audit.ts';
import { createMfaRepo } from '../store/mfa.ts';
import { createOpaqueToken, hashOpaqueToken } from '../auth/opaque-tokens.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { SignInService } from '../auth/mfa/sign-in.ts';
import type { Permissions } from '../auth/permissions.ts';
import type { SessionService } from '../sessions.ts';
import type { Invitation } from '../store/invitations.ts';
import type { ProjectRole } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { UserPageFilter } from '../store/user-admin.ts';
import type { User } from '../store/users.ts';

export const INVITATION_TTL_MS = 72 * 3600 * 1000;

/** What the holder of an invitation code may learn about it before accepting. */
export interface InvitationPreview {
  invitation: Invitation;
  projectName: string | null;
  /** The invited email already has an account: accepting asks for its password, never sets one. */
  existingAccount: boolean;
}

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
  readonly #passwords: Pick<SignInService, 'checkPassword'>;

  constructor(options: { store: Store; permissions: Permissions; sessions: SessionService; audit: Audit; passwords: Pick<SignInService, 'checkPassword'> }) {
    this.#store = options.store;
    this.#passwords = options.passwords;
    this.#permissions = options.permissions;
    this.#sessions = options.sessions;
    this.#audit = options.audit;
  }

  /**
   * Instance admins invite anyone; project admins only into their project. Returns the one-time code.
   * A project admin gets the same answer whether or not the email has an account (issue 10
   * item 13): an existing account joins the project when its owner accepts with its password.
   * Instance admins, who list every user anyway, get a 409 for a known email, telling them to
   * add the account to the project directly.
   */
  async invite(actor: User, input: InviteInput, sourceAddress: string | null): Promise<{ invitation: Invitation; code: string }> {
    if (input.projectId !== undefined) {
      const project = await this.#store.projects.findById(input.projectId);
      if (!project || !(await this.#permissions.can(actor, project.id, 'read'))) throw notFound('project');
      await this.#permissions.require(actor, project.id, 'manage');
    } else {
      if (input.role !== undefined) throw new InvalidInputError('role: give projectId with role', 'role');
      this.#permissions.requireInstanceAdmin(actor);
    }
    if (actor.isAdmin && (await this.#store.users.findByEmail(input.email))) {
      throw new GatehouseError(
        ErrorCodes.CONFLICT,
        `a user with email ${input.email} already exists; add them to a project with POST /api/v1/projects/<id>/members { email, role }`,
      );
    }
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

  /** For the holder of a code: what the invitation is for, and whether it joins an existing account. */
  async previewInvitation(code: string, sourceAddress: string | null): Promise<InvitationPreview> {
    const invitation = await this.#usable(code, sourceAddress);
    const project = invitation.projectId !== null ? await this.#store.projects.findById(invitation.projectId) : undefined;
    const existing = await this.#store.users.findByEmail(invitation.email);
    return { invitation, projectName: project?.name ?? null, existingAccount: existing !== undefined };
  }

  /**
   * Uses an invitation once. A new email: creates the user with the chosen password. An email
   * that already has an account: `password` must be that account's password (checked like a
   * sign-in, lockout included; never changed), and the account joins the invited project.
   * Either way the user gets the invited role; the caller signs them in (`afterPassword`).
   */
  async acceptInvitation(input: { code: string; password: string; name?: string }, sourceAddress: string | null): Promise<User> {
    const pending = await this.#usable(input.code, sourceAddress);
    const existing = await this.#store.users.findByEmail(pending.email);
    // A wrong password throws here, before the invitation is used, so the owner can retry.
    const joining = existing ? await this.#existingAccount(existing.email, input.password, sourceAddress) : undefined;
    const invitation = await this.#store.invitations.consume(hashOpaqueToken(input.code), new Date());
    if (!invitation) throw await this.#invalid(sourceAddress);
    const user =
      joining ??
      (await this.#store.users.create({
        email: invitation.email,
        name: input.name ?? invitation.name ?? invitation.email,
        passwordHash: await hashPassword(input.password),
        isAdmin: false,
      }));
    let previousRole: ProjectRole | undefined;
    if (invitation.projectId !== null && invitation.role !== null) {
      previousRole = await this.#store.projects.roleOf(invitation.projectId, user.id);
      await this.#store.projects.setMember(invitation.projectId, user.id, invitation.role);
    }
    await this.#audit({
      actor: user,
      action: 'user.invitation_accept',
      targetType: 'user',
      targetId: user.id,
      sourceAddress,
      details: {
        invitationId: invitation.id,
        email: user.email,
        projectId: invitation.projectId,
        role: invitation.role,
        existingAccount: joining !== undefined,
        ...(previousRole !== undefined && { previousRole }),
      },
    });
    return user;
  }

  /** The code holder learns the account exists (the invitation is theirs), never more than a wrong sign-in tells. */
  async #existingAccount(email: string, password: string, sourceAddress: string | null): Promise<User> {
    try {
      return await this.#passwords.checkPassword(email, password, sourceAddress);
    } catch (err) {
      if (err instanceof GatehouseError && err.code === ErrorCodes.INVALID_CREDENTIALS) {
        throw new GatehouseError(
          ErrorCodes.INVALID_CREDENTIALS,
          `wrong password: ${email} already has a Gatehouse account; enter its password (not a new one) to accept this invitation`,
        );
      }
      throw err;
    }
  }

  async #usable(code: string, sourceAddress: string | null): Promise<Invitation> {
    const invitation = await this.#store.invitations.findUsable(hashOpaqueToken(code), new Date());
    if (!invitation) throw await this.#invalid(sourceAddress);
    return invitation;
  }

  async #invalid(sourceAddress: string | null): Promise<GatehouseError> {
    await this.#audit({ actor: null, action: 'user.invitation_invalid', targetType: 'invitation', targetId: null, sourceAddress });
    return new GatehouseError(ErrorCodes.INVITATION_INVALID, 'this invitation is unknown, already used or expired; ask an admin for a new one');
  }

  /** A page of users by email (instance admins only). */
  async list(actor: User, filter: UserPageFilter): Promise<User[]> {
    this.#permissions.requireInstanceAdmin(actor);
    return this.#store.userAdmin.page(filter);
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
    await this.#audit({
      actor,
      action: 'user.update',
      targetType: 'user',
      targetId: user.id,
      sourceAddress,
      details: { email: user.email, ...patch, ...(ended > 0 && { sessionsEnded: ended }) },
    });
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
