/**
 * The one typed contract between the desktop app's main process and its renderer.
 * Every request channel is written once here as `{ args, result }`; the main-side handlers
 * (`defineHandlers`) and the renderer-side client (`createIpcClient`) are derived from it.
 * Nothing here imports Node or Electron: the renderer bundles this file.
 */
import type { ErrorDetails, MfaMethod, SerializedError } from '../../proxy-core/src/errors.ts';

export type { ErrorDetails, MfaMethod, SerializedError };

// ---- data that crosses the boundary (never a database password, never a token) ----

export interface UserInfo { id: string; email: string; name: string; isAdmin: boolean }
export interface ProjectInfo { id: string; name: string; role: string }

export type AuthState =
  | { state: 'signed-out'; serverUrl?: string; reason?: 'signed-out' | 'expired' }
  | { state: 'signed-in'; serverUrl: string; user: UserInfo; projects: ProjectInfo[] };

export interface MfaProof { method: MfaMethod; code: string }

export type SignInResult =
  | Extract<AuthState, { state: 'signed-in' }>
  /** The server asks for a second factor; answer with `auth.submitMfa` (email: `auth.sendEmailCode` first). */
  | { state: 'mfa-required'; challengeId: string; methods: MfaMethod[] };

/** A failure as it crosses IPC: `{ name, code, message, details? }` (`ErrorDetails`: proxy-core/src/errors.ts). */
export type IpcErrorInfo = SerializedError;

export type AccessRequestState = 'pending' | 'approved' | 'denied' | 'expired';
/** An access request as the server shows it (docs/access-control.md). */
export interface AccessRequestInfo {
  id: string; projectId: string; userId: string; userEmail: string;
  resource: { id: string; name: string }; account: { id: string; name: string };
  durationSeconds: number; reason: string; status: AccessRequestState;
  approvals: { userId: string; email: string; decision: string; comment?: string | null; at: string }[];
  requiredApprovals: number; createdAt?: string; approvedAt?: string | null; windowEndsAt?: string | null;
}
export interface NewAccessRequest {
  projectId: string; resource: string; account: string;
  duration: string | number; reason: string;
}

export interface AccountInfo {
  id: string; name: string; description: string; username: string;
  requireMfa: boolean; requireApproval: boolean;
  /** The local port this account always gets (remembered or set by the user). */
  port?: number;
}
export interface AccountGroup {
  projectId: string; projectName: string;
  resource: { id: string; name: string; database: string };
  accounts: AccountInfo[];
}

export interface AccessRequest {
  projectId: string; resource: string; account: string;
  /** '1h', '30m' or seconds. */
  duration: string | number;
  port?: number;
  reason?: string;
  /** A fresh second factor, for accounts that require MFA (asked for after MFA_REQUIRED). */
  mfa?: MfaProof;
  /** An approved access request whose window is open, for accounts that require approval. */
  accessRequestId?: string;
}

/** Live state of one local proxy (same shape as main/core's `AccessStatus`). */
export interface SessionStatus {
  sessionId: string; projectId: string; resourceName: string; accountName: string;
  database: string; username: string; host: '127.0.0.1'; port: number; url: string; expiresAt: string;
  state: 'starting' | 'ready' | 'ending' | 'ended' | 'error';
  endReason?: 'stopped' | 'expired' | 'revoked' | 'ended' | 'error';
  error?: SerializedError;
  connections: number; statements: number; bytesIn: number; bytesOut: number;
}

/** A session as the server remembers it (for "My sessions"). */
export interface SessionSummary {
  id: string; projectId: string; userEmail: string;
  resource: { id: string; name: string; database: string };
  account: { id: string; name: string; username: string };
  status: 'active' | 'ended' | 'revoked' | 'expired';
  createdAt: string; expiresAt: string; endedAt?: string;
}

export type SessionEventInfo = {
  seq: number; sessionId: string; connectionId: string; at: string;
} & (
  | { type: 'connect'; applicationName?: string; clientAddress?: string; clientUser?: string; backendPid?: number }
  | { type: 'connect-failed'; sqlstate: string; message: string }
  | { type: 'disconnect'; reason: 'client' | 'server' | 'expired' | 'revoked' | 'error'; bytesIn: number; bytesOut: number }
  | {
      type: 'statement'; protocol: 'simple' | 'extended' | 'function-call'; sql: string;
      params?: (string | null)[] | 'redacted'; durationMs: number;
      outcome: { status: 'ok'; tag?: string; rows?: number } | { status: 'error'; sqlstate: string; message: string };
      copy?: { direction: 'in' | 'out'; rows: number; bytes: number };
    }
);

export interface DesktopSettings {
  serverUrl?: string;
  /** Full path of the DBeaver executable when it is not in a usual place. */
  dbeaverPath?: string;
  /** Full path of psql when it is not on PATH. */
  psqlPath?: string;
  /** Desktop notifications (expiry warnings, ended, revoked). */
  notifications: boolean;
  /** Remembered local ports, keyed by `projectId/resource/account`. */
  ports: Record<string, number>;
}

export interface AppNotification {
  kind: 'expiring' | 'ended' | 'revoked' | 'expired' | 'error';
  sessionId: string; title: string; body: string;
}

// ---- the channel map ----

export interface IpcContract {
  'auth.current': { args: []; result: AuthState };
  'auth.signIn': { args: [{ serverUrl: string; email: string; password: string }]; result: SignInResult };
  'auth.submitMfa': { args: [{ challengeId: string; method: MfaMethod; code: string }]; result: SignInResult };
  /** Mails a one-time code: for the sign-in challenge, or (no challengeId) for an MFA-protected session. */
  'auth.sendEmailCode': { args: [{ challengeId?: string }]; result: void };
  'auth.signOut': { args: []; result: void };
  'accounts.list': { args: []; result: AccountGroup[] };
  'sessions.start': { args: [AccessRequest]; result: SessionStatus };
  'sessions.stop': { args: [{ sessionId: string }]; result: void };
  'sessions.list': { args: []; result: SessionStatus[] };
  'ports.set': { args: [{ projectId: string; resource: string; account: string; port: number }]; result: void };
  'clients.openPsql': { args: [{ sessionId: string }]; result: void };
  'clients.openDbeaver': { args: [{ sessionId: string }]; result: void };
  /** Returns the JDBC URL; `copied` says whether the main process put it on the clipboard. */
  'clients.copyJdbcUrl': { args: [{ sessionId: string }]; result: { url: string; copied: boolean } };
  'history.list': { args: [{ limit?: number }]; result: SessionSummary[] };
  'history.events': { args: [{ sessionId: string; after?: number; limit?: number }]; result: { events: SessionEventInfo[]; next?: number } };
  'requests.create': { args: [NewAccessRequest]; result: AccessRequestInfo };
  'requests.get': { args: [{ id: string }]; result: AccessRequestInfo };
  /** `mine`: the person's own; otherwise what they may decide. */
  'requests.list': { args: [{ status?: AccessRequestState; mine?: boolean }]; result: AccessRequestInfo[] };
  'requests.approve': { args: [{ id: string; comment?: string }]; result: AccessRequestInfo };
  'requests.deny': { args: [{ id: string; comment?: string }]; result: AccessRequestInfo };
  'settings.get': { args: []; result: DesktopSettings };
  'settings.set': { args: [Partial<Omit<DesktopSettings, 'ports'>>]; result: DesktopSettings };
}

export interface IpcEvents {
  'session-status': SessionStatus;
  'notification': AppNotification;
  'auth-changed': AuthState;
  /** ---- "Open in Gatehouse" (console): a gatehouse://access link the OS handed the app ---- */
  'open-access': OpenAccessEvent;
}

// ---- "Open in Gatehouse" links (main/core/deep-link.ts reads them; the renderer opens Access) ----
/** `open`: open the Access dialog for that account; the others: tell the person why not. */
export type OpenAccessEvent =
  | { action: 'open'; projectId: string; resource: string; account: string; duration?: string }
  | { action: 'other-server'; server: string; signedInServer: string }
  | { action: 'sign-in'; server: string }
  | { action: 'invalid'; message: string };
// ---- end of "Open in Gatehouse" ----

export type Channel = keyof IpcContract;
export type EventName = keyof IpcEvents;
export type ArgsOf<C extends Channel> = IpcContract[C]['args'];
export type ResultOf<C extends Channel> = IpcContract[C]['result'];

/** Every channel name, for the preload's allow-list and the bridge's validation. */
export const CHANNELS = [
  'auth.current', 'auth.signIn', 'auth.submitMfa', 'auth.sendEmailCode', 'auth.signOut', 'accounts.list',
  'sessions.start', 'sessions.stop', 'sessions.list', 'ports.set',
  'clients.openPsql', 'clients.openDbeaver', 'clients.copyJdbcUrl',
  'history.list', 'history.events',
  'requests.create', 'requests.get', 'requests.list', 'requests.approve', 'requests.deny',
  'settings.get', 'settings.set',
] as const satisfies readonly Channel[];

export const EVENTS = ['session-status', 'notification', 'auth-changed', 'open-access'] as const satisfies readonly EventName[];

// Compile-time check that CHANNELS lists every channel.
type Missing = Exclude<Channel, (typeof CHANNELS)[number]>;
const everyChannelListed: Missing extends never ? true : Missing = true;
void everyChannelListed;

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}
export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENTS as readonly string[]).includes(value);
}

/** What a request resolves to on the wire: a result or a serialized error, never a thrown object. */
export type Envelope<T> = { ok: true; result: T } | { ok: false; error: IpcErrorInfo };

/** The main-process-side prefix for ipcMain channel names. */
export const IPC_PREFIX = 'gatehouse:';
