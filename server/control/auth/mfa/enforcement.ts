/**
 * Whether a sign-in's second factor satisfies the organization's enforced MFA. Checked at every
 * way in: sign-in and invitation (auth/mfa/sign-in.ts), refresh and every authenticated request
 * (auth/auth-service.ts), so tokens from before the enforcement stop working.
 */
export function mfaSatisfies(enforce: string, mfaMethod: string | null | undefined): boolean {
  if (enforce === 'totp') return mfaMethod === 'totp' || mfaMethod === 'recovery';
  if (enforce === 'email') return mfaMethod === 'totp' || mfaMethod === 'recovery' || mfaMethod === 'email';
  return true;
}
