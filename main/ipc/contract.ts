/**
 * The one typed contract between the desktop app's main process and its renderer.
 * Every request channel is written once here as `{ args, result }`; the main-side handlers
 * (`defineHandlers`) and the renderer-side client (`createIpcClient`) are derived from it.
 * Nothing here imports Node or Electron: the renderer bundles this file. The core types it
 * shares (the gate's steps, access requests, client profiles) come in as type-only imports,
 * which the bundler erases.
 */
import type { ErrorDetails, MfaMethod, SerializedError } from '../../proxy-core/src/errors.ts';
import type { GateResultOf, GateStepOf } from '../core/access/access-gate.ts';
import type { AccessRequestInfo, AccessRequestStatus, NewAccessRequest } from '../core/api/types.ts';
import type { ClientProfile } from '../core/profiles/client-profiles.ts';
import type { AccessRequest as CoreAccessRequest, AccessStatus as CoreAccessStatus, ConnectionState } from '../core/access/types.ts';

export type { ErrorDetails, MfaMethod, SerializedError };

// ---- data that crosses the boundary (never a database password, never a token) ----

export interface UserInfo {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
}
export interface ProjectInfo {
  id: string;
  name: string;
  role: string;
}

export type AuthState =
  | { state: 'signed-out'; serverUrl?: string; reason?: 'signed-out' | 'expired' }
  | { state: 'signed-in'; serverUrl: string; user: UserInfo; projects: ProjectInfo[] };

export interface MfaProof {
  method: MfaMethod;
  code: string;
}

export type SignInResult =
  | Extract<AuthState, { state: 'signed-in' }>
  /** The server asks for a second factor; answer with `auth.submitMfa` (email: `auth.sendEmailCode` first). */
  | { state: 'mfa-required'; challengeId: string; methods: MfaMethod[] }
  /**
   * The organization requires an authenticator app and this person has none yet: enroll in
   * the app with `auth.mfaEnrollStart({ challengeId })` then `auth.mfaEnrollConfirm({ challengeId, code })`,
   * which completes the sign-in.
   */
  | { state: 'mfa-enrollment-required'; challengeId: string };

/** A TOTP enrollment under way: show the QR code (a `data:image/png` URL) or the secret to type. */
export interface MfaEnrollment {
  otpauthUrl: string;
  qrDataUrl: string;
  secret: string;
}
export interface MfaEnrollmentDone {
  /** Ten one-time recovery codes, shown once. */
  recoveryCodes: string[];
  /** Set when the enrollment completed a sign-in (`challengeId` given). */
  auth?: Extract<AuthState, { state: 'signed-in' }>;
}
/** The signed-in person and their second factors (the profile page). */
export interface ProfileInfo {
  user: UserInfo;
  serverUrl: string;
  mfa: {
    totp: boolean;
    recoveryCodesLeft: number;
    /** What the organization enforces for everybody. */
    enforce: 'none' | 'totp' | 'email';
    emailAvailable: boolean;
    /** What a session on an MFA account will accept. */
    methods: MfaMethod[];
  };
}

/** A failure as it crosses IPC: `{ name, code, message, details? }` (`ErrorDetails`: proxy-core/src/errors.ts). */
export type IpcErrorInfo = SerializedError;

/** An access request as the server shows it (docs/access-control.md), and a new one. */
export type { AccessRequestInfo, NewAccessRequest };
export type AccessRequestState = AccessRequestStatus;

/** Whether the gateway in front of a resource holds its link to the control plane. */
export interface GatewayHealth {
  status: 'connected' | 'offline';
  /** When the control plane last heard from it (ISO); null when never. */
  lastSeenAt: string | null;
}

export interface AccountInfo {
  id: string;
  name: string;
  description: string;
  username: string;
  requireMfa: boolean;
  requireApproval: boolean;
  /** The longest session the policy allows (seconds), when the server says. */
  maxDurationSeconds?: number;
  /** The local port this account always gets (remembered or set by the user). */
  port?: number;
  /** The gateway of this account's resource. */
  gateway: GatewayHealth;
}
export interface AccountGroup {
  projectId: string;
  projectName: string;
  resource: { id: string; name: string; database: string };
  accounts: AccountInfo[];
}

/** What Access asks for: the core's request (main/core/access/types.ts) and the reason for an approval request the gate may file. */
export type AccessRequest = Omit<CoreAccessRequest, 'localPassword'> & { reason?: string };

/** What a person should be told about a session right now (main/core/access/types.ts). */
export type { ConnectionState };

/**
 * Live state of one local proxy: the core's `AccessStatus` as the renderer sees it (the tunnel
 * detail is in `connection`; `state` is the local proxy's lifecycle, `connection` what to show).
 */
export interface SessionStatus extends Omit<CoreAccessStatus, 'tunnel' | 'endReason'> {
  endReason?: 'stopped' | 'expired' | 'revoked' | 'ended' | 'error';
}

/**
 * One step of the access gate (main/core/access/access-gate.ts): the same state machine the
 * CLI drives. The renderer only shows it and answers `mfa` (with `access.answer({ flowId, mfa })`;
 * email: `auth.sendEmailCode({})` first) and `reason` (`access.answer({ flowId, reason })`).
 */
export type GateStep = GateStepOf<SessionStatus, AccessRequestInfo, IpcErrorInfo>;
export type GateProgress = { flowId: string; at: string } & GateStep;

/** How `access.begin` / `sessions.accessAgain` end (a failure rejects with the error instead). */
export type GateOutcome = GateResultOf<SessionStatus, AccessRequestInfo>;

/** What the app did after the computer woke up or the network changed. */
export interface ResumeReport {
  cause: 'resume' | 'network';
  at: string;
  sessions: {
    sessionId: string;
    resourceName: string;
    accountName: string;
    /** ok: nothing to do; reconnected: the tunnel was re-opened; reconnecting: still trying; ended: over (see reason). */
    outcome: 'ok' | 'reconnected' | 'reconnecting' | 'ended';
    reason?: string;
  }[];
}

/** A client profile written for an account (psql's service file, DBeaver's workspace). */
export type { ClientProfile };
export type ClientProfileKind = ClientProfile['kind'];
export interface ProfileTarget {
  projectId: string;
  resource: string;
  account: string;
  /** Both when absent. */
  kinds?: ClientProfileKind[];
}

/** A session as the server remembers it (for "My sessions"). */
export interface SessionSummary {
  id: string;
  projectId: string;
  userEmail: string;
  resource: { id: string; name: string; database: string };
  account: { id: string; name: string; username: string };
  status: 'active' | 'ended' | 'revoked' | 'expired';
  createdAt: string;
  expiresAt: string;
  endedAt?: string;
}

export type SessionEventInfo = {
  seq: number;
  sessionId: string;
  connectionId: string;
  at: string;
} & (
  | { type: 'connect'; applicationName?: string; clientAddress?: string; clientUser?: string; backendPid?: number }
  | { type: 'connect-failed'; sqlstate: string; message: string }
  | { type: 'disconnect'; reason: 'client' | 'server' | 'expired' | 'revoked' | 'error'; bytesIn: number; bytesOut: number }
  | {
      type: 'statement';
      protocol: 'simple' | 'extended' | 'function-call';
      sql: string;
      params?: (string | null)[] | 'redacted';
      durationMs: number;
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
  sessionId: string;
  title: string;
  body: string;
}

// ---- the channel map ----

export interface IpcContract {
  'auth.current': { args: []; result: AuthState };
  'auth.signIn': { args: [{ serverUrl: string; email: string; password: string }]; result: SignInResult };
  'auth.submitMfa': { args: [{ challengeId: string; method: MfaMethod; code: string }]; result: SignInResult };
  /** Mails a one-time code: for the sign-in challenge, or (no challengeId) for an MFA-protected session. */
  'auth.sendEmailCode': { args: [{ challengeId?: string }]; result: void };
  'auth.signOut': { args: []; result: void };
  /** Starts a TOTP enrollment: signed in, or (challengeId) during a sign-in that must enroll first. */
  'auth.mfaEnrollStart': { args: [{ challengeId?: string }]; result: MfaEnrollment };
  'auth.mfaEnrollConfirm': { args: [{ code: string; challengeId?: string }]; result: MfaEnrollmentDone };
  'auth.profile': { args: []; result: ProfileInfo };
  'accounts.list': { args: []; result: AccountGroup[] };
  /** Starts a session without the gate (refusals come back as errors); prefer `access.begin`. */
  'sessions.start': { args: [AccessRequest]; result: SessionStatus };
  'sessions.stop': { args: [{ sessionId: string }]; result: void };
  'sessions.list': { args: []; result: SessionStatus[] };
  /** Extends a running session in place (within the policy's maximum); open connections stay open. */
  'sessions.extend': { args: [{ sessionId: string; duration: string | number; mfa?: MfaProof }]; result: SessionStatus };
  /** Starts a new session like an ended one (same account and duration), through the gate. */
  'sessions.accessAgain': { args: [{ sessionId: string; flowId: string }]; result: GateOutcome };
  /**
   * Starts access through the gate: MFA and approval steps come as `access-progress` events
   * with this `flowId`; answer them with `access.answer`; resolves when it is over.
   */
  'access.begin': { args: [AccessRequest & { flowId: string }]; result: GateOutcome };
  'access.answer': { args: [{ flowId: string; mfa?: MfaProof; reason?: string }]; result: void };
  /** Stops a gate (waiting for approval: the request stays open on the server). */
  'access.cancel': { args: [{ flowId: string }]; result: void };
  'profiles.list': { args: []; result: ClientProfile[] };
  /** Writes (or refreshes) the profiles of an account; answers what is written. */
  'profiles.write': { args: [ProfileTarget]; result: ClientProfile[] };
  'profiles.remove': { args: [ProfileTarget]; result: ClientProfile[] };
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
  notification: AppNotification;
  'auth-changed': AuthState;
  /** ---- "Open in Gatehouse" (console): a gatehouse://access link the OS handed the app ---- */
  'open-access': OpenAccessEvent;
  /** A step of an access gate started with `access.begin` or `sessions.accessAgain`. */
  'access-progress': GateProgress;
  /** After the computer woke up or the network changed: what was checked and done. */
  'system-resumed': ResumeReport;
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
  'auth.current',
  'auth.signIn',
  'auth.submitMfa',
  'auth.sendEmailCode',
  'auth.signOut',
  'auth.mfaEnrollStart',
  'auth.mfaEnrollConfirm',
  'auth.profile',
  'accounts.list',
  'sessions.start',
  'sessions.stop',
  'sessions.list',
  'sessions.extend',
  'sessions.accessAgain',
  'access.begin',
  'access.answer',
  'access.cancel',
  'profiles.list',
  'profiles.write',
  'profiles.remove',
  'ports.set',
  'clients.openPsql',
  'clients.openDbeaver',
  'clients.copyJdbcUrl',
  'history.list',
  'history.events',
  'requests.create',
  'requests.get',
  'requests.list',
  'requests.approve',
  'requests.deny',
  'settings.get',
  'settings.set',
] as const satisfies readonly Channel[];

export const EVENTS = [
  'session-status',
  'notification',
  'auth-changed',
  'open-access',
  'access-progress',
  'system-resumed',
] as const satisfies readonly EventName[];

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
