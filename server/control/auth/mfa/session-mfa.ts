/**
 * Require MFA for Access: `POST /sessions` for an account with `requireMfa` needs a fresh
 * proof `mfa: { method, code }`; without one it answers 403 MFA_REQUIRED with
 * `challenge: { methods }`. Called from the sessions route before the session is created.
 */
import { z } from 'zod';
import { ErrorCodes } from '../../../../proxy-core/src/errors.ts';
import { ErrorWithBody } from '../../api/errors.ts';
import type { Services } from '../../api/services.ts';
import type { User } from '../../store/users.ts';

export const mfaProofBody = z.object({ method: z.enum(['totp', 'email']), code: z.string().trim().min(1).max(64) });
export type MfaProof = z.infer<typeof mfaProofBody>;

export async function requireSessionMfa(
  s: Services,
  user: User,
  body: { projectId: string; resource: string; account: string; mfa?: MfaProof },
  sourceAddress: string | null,
): Promise<void> {
  // Only ask for a code where the caller could open a session at all; the session service
  // gives the real refusal (not found, forbidden) otherwise.
  if (!(await s.permissions.can(user, body.projectId, 'access'))) return;
  const resource = await s.store.resources.findInProject(body.projectId, body.resource);
  const found = resource && (await s.store.accounts.findOnResource(resource.id, body.account));
  const account = found && (await s.store.accounts.findById(found.id));
  if (!account?.requireMfa) return;
  // Policies first: nobody is asked for a code for an account they may not use.
  if (!(await s.access.grantFor(user, body.projectId, account).then(() => true, () => false))) return;
  const methods = await s.mfa.methodsFor(user, 'access');
  if (body.mfa === undefined) {
    await s.audit({ actor: user, action: 'session.mfa_required', targetType: 'account', targetId: account.id, targetName: account.name, projectId: body.projectId, sourceAddress });
    throw new ErrorWithBody(ErrorCodes.MFA_REQUIRED, `the account "${account.name}" requires MFA: send mfa: { method, code } (${methods.join(' or ')})`, {
      challenge: { methods, emailSendPath: methods.includes('email') ? '/api/v1/me/mfa/email/send' : undefined },
    });
  }
  await s.mfa.verify(user, body.mfa.method, body.mfa.code, 'access', sourceAddress);
}
