/**
 * "Open in Gatehouse" links: `gatehouse://access?domain=<URL>&projectId=<id>&resource=<name>&account=<name>[&duration=1h]`,
 * shown by the web console next to the CLI command. The OS hands them to the desktop app
 * (main/electron registers the protocol); this module reads one, once, and decides what the
 * app does with it given who is signed in where. Plain Node: no Electron, testable alone.
 */
import { z } from 'zod';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { normalizeDomain } from './api/domain.ts';

export const DEEP_LINK_SCHEME = 'gatehouse';
const MAX_LINK_LENGTH = 4096;

export interface AccessLink {
  /** The control plane's origin, e.g. `https://gatehouse.example.com` (the CLI's `--domain`). */
  domain: string;
  projectId: string;
  /** Resource and account by name (or id), as `gatehouse db access` takes them. */
  resource: string;
  account: string;
  /** `1h`, `30m`, `90s` or seconds, as the CLI's `--duration`. */
  duration?: string;
}

/** What the app does with a link; pushed to the renderer as the `open-access` IPC event. */
export type AccessLinkAction =
  | { action: 'open'; projectId: string; resource: string; account: string; duration?: string }
  /** The link names another server than the one signed in to: say so, offer to switch. */
  | { action: 'other-server'; server: string; signedInServer: string }
  /** Nobody is signed in: sign in to `server` first. */
  | { action: 'sign-in'; server: string }
  | { action: 'invalid'; message: string };

const text = z.string().trim().min(1).max(200);
const params = z.object({
  domain: z
    .string()
    .max(2048)
    .transform((value, ctx) => {
      try {
        return normalizeDomain(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  projectId: text,
  resource: text,
  account: text,
  duration: z
    .string()
    .regex(/^\d{1,7}[smhd]?$/, 'duration must look like 1h, 30m, 90s or a number of seconds')
    .optional(),
});

/** Reads a `gatehouse://access?…` link; throws INVALID_INPUT saying what is wrong. */
export function parseAccessLink(raw: string): AccessLink {
  if (raw.length > MAX_LINK_LENGTH) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'the Gatehouse link is too long');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'not a Gatehouse link (gatehouse://access?…)');
  }
  // gatehouse://access?… parses with host "access"; gatehouse:access?… with pathname "access".
  const what = url.host || url.pathname.replace(/^\/+/, '');
  if (url.protocol !== `${DEEP_LINK_SCHEME}:` || what.replace(/\/+$/, '') !== 'access') {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'not a Gatehouse access link (gatehouse://access?…)');
  }
  const parsed = params.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, `the Gatehouse link is incomplete or wrong: ${issue.path.join('.') || 'link'}: ${issue.message}`);
  }
  const { duration, ...rest } = parsed.data;
  return { ...rest, ...(duration !== undefined && { duration }) };
}

/** The link for an account, as the console shows it. */
export function buildAccessLink(link: AccessLink): string {
  const q = new URLSearchParams({ domain: link.domain, projectId: link.projectId, resource: link.resource, account: link.account });
  if (link.duration) q.set('duration', link.duration);
  return `${DEEP_LINK_SCHEME}://access?${q.toString()}`;
}

/** The link among a process's arguments (Windows and Linux start the app, or a second instance, with it). */
export function accessLinkInArgv(argv: readonly string[]): string | undefined {
  return argv.find((arg) => arg.toLowerCase().startsWith(`${DEEP_LINK_SCHEME}:`));
}

/** What to do with `raw` when `signedInServer` (an origin) is the server signed in to, if any. */
export function resolveAccessLink(raw: string, signedInServer: string | undefined): AccessLinkAction {
  let link: AccessLink;
  try {
    link = parseAccessLink(raw);
  } catch (err) {
    return { action: 'invalid', message: (err as Error).message };
  }
  if (signedInServer === undefined) return { action: 'sign-in', server: link.domain };
  if (normalizeDomain(signedInServer) !== link.domain) return { action: 'other-server', server: link.domain, signedInServer: normalizeDomain(signedInServer) };
  return {
    action: 'open',
    projectId: link.projectId,
    resource: link.resource,
    account: link.account,
    ...(link.duration !== undefined && { duration: link.duration }),
  };
}
