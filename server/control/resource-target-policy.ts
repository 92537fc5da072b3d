/**
 * What protects a resource's stored account passwords when its settings change (issue 10
 * item 2): only an instance admin may let the gateway answer MD5 or cleartext password
 * requests, and pointing a resource somewhere else (gateway, host, port or TLS settings)
 * forgets its accounts' passwords, so they never reach a target they were not entered for.
 */
import { isDeepStrictEqual } from 'node:util';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import type { Resource, ResourceInput } from './store/resources.ts';
import type { User } from './store/users.ts';

type WeakAuthSettings = Partial<Pick<Resource, 'allowMd5' | 'allowCleartext'>>;

/** Throws FORBIDDEN when a non instance admin would turn MD5 or cleartext on. */
export function assertMayAllowWeakAuth(user: Pick<User, 'isAdmin'>, requested: WeakAuthSettings, current?: WeakAuthSettings): void {
  const turningOn = (['allowMd5', 'allowCleartext'] as const).filter((k) => requested[k] === true && current?.[k] !== true);
  if (turningOn.length > 0 && !user.isAdmin) {
    throw new GatehouseError(
      ErrorCodes.FORBIDDEN,
      `only an instance admin may turn on ${turningOn.join(' and ')}: MD5 and cleartext let the database server (or whoever answers at its address) learn the account password`,
    );
  }
}

/** The settings a patch changes that decide where an account's password goes. */
export function targetChanges(resource: Resource, patch: Partial<ResourceInput>): string[] {
  const changed: string[] = [];
  if (patch.gatewayId !== undefined && patch.gatewayId !== resource.gatewayId) changed.push('gatewayId');
  if (patch.host !== undefined && patch.host !== resource.host) changed.push('host');
  if (patch.port !== undefined && patch.port !== resource.port) changed.push('port');
  if (patch.ssl !== undefined && !isDeepStrictEqual(normalSsl(patch.ssl), normalSsl(resource.ssl))) changed.push('ssl');
  return changed;
}

/** The weak-auth settings a patch changes, with their new values. */
export function weakAuthChanges(resource: Resource, patch: WeakAuthSettings): WeakAuthSettings | undefined {
  const out: WeakAuthSettings = {};
  if (patch.allowMd5 !== undefined && patch.allowMd5 !== resource.allowMd5) out.allowMd5 = patch.allowMd5;
  if (patch.allowCleartext !== undefined && patch.allowCleartext !== resource.allowCleartext) out.allowCleartext = patch.allowCleartext;
  return Object.keys(out).length > 0 ? out : undefined;
}

function normalSsl(ssl: Resource['ssl']): Resource['ssl'] {
  return { enabled: ssl.enabled, rejectUnauthorized: ssl.rejectUnauthorized, ...(ssl.ca !== undefined && { ca: ssl.ca }) };
}
