const TOP = `gatehouse — just-in-time, audited access to PostgreSQL

Usage:
  gatehouse invitations accept <link-or-code> [--password P] [--name N] [--domain URL] [--mfa-code C]
  gatehouse login --domain URL [--email E --password P] [--mfa-code C] [--mfa-method totp|email|recovery]
  gatehouse logout [--domain URL]
  gatehouse mfa enroll [--code C] [--qr] [--domain URL]
  gatehouse projects list [--json] [--domain URL]
  gatehouse accounts list [--project-id P] [--json] [--domain URL]
  gatehouse db access --resource R --account A [--project-id P] [--duration 1h] [--port N] [--json]
                      [--mfa-code C] [--mfa-method M] [--reason TEXT] [--request-id ID] [--domain URL]
  gatehouse db access --again <session-id> [--duration D] [--port N] [--json]
  gatehouse requests list [--project-id P] [--status pending|approved|denied|expired|all] [--mine] [--json]
  gatehouse requests approve <id> [--comment TEXT] [--json]
  gatehouse requests deny <id> [--comment TEXT] [--json]
  gatehouse sessions list [--project-id P] [--status active|ended|revoked|expired] [--json] [--domain URL]
  gatehouse sessions logs <session-id> [--tail N | --after SEQ] [--limit N] [--follow] [--json] [--domain URL]
  gatehouse sessions extend <session-id> --duration 30m [--mfa-code C] [--json]
  gatehouse profiles write --resource R --account A [--project-id P] [--pg-service] [--dbeaver] [--json]
  gatehouse profiles remove --resource R --account A [--pg-service] [--dbeaver] [--json]
  gatehouse profiles list [--json]
  gatehouse --version

New here? Accept your invitation, list what you may access, start a session:
  gatehouse invitations accept 'https://gatehouse.example.com/accept-invitation#code=ghi_…'
  gatehouse accounts list
  gatehouse db access --resource R --account A

'gatehouse projects', 'accounts', 'sessions' and 'requests' alone run their list.
Every command takes --domain; after login the signed-in domain is the default.
--project-id takes a project's id or name and defaults to the last project used, or your
only project.
Run 'gatehouse <command> --help' for details.`;

const COMMANDS: Record<string, string> = {
  'invitations accept': `Usage: gatehouse invitations accept <link-or-code> [--password P] [--name N] [--domain URL]
                                   [--mfa-code C] [--mfa-method M]

Accepts an invitation from a Gatehouse admin: sets your password, signs you in and keeps
the tokens like login does. Paste the whole link you were sent (quote it: it has a #); a
bare code (ghi_…) needs --domain URL. On a terminal the password is asked for twice
(at least 8 characters, not echoed); scripts pass --password.

When the organization requires an authenticator app, the command shows the otpauth URL
(and a QR code on a UTF-8 terminal), asks for the app's first code (or takes --mfa-code)
and prints ten recovery codes once. An invitation works once and for 72 hours; a used or
expired one exits 1 — ask the admin for a new one.

Options:
  --password P       your new password (else asked on a terminal)
  --name N           your display name (default: the invitation's, else your email)
  --mfa-code C       the first code of your authenticator, or a sign-in code
  --mfa-method M     totp (default), email or recovery, when the server asks for a code
  --domain URL       the Gatehouse server (default: the link's)`,
  projects: `Usage: gatehouse projects list [--json] [--domain URL]`,
  'projects list': `Usage: gatehouse projects list [--json] [--domain URL]

Lists the projects you are in with your role (admin, member, auditor). DEFAULT marks the
project commands use without --project-id: the last one used, or your only project.
--json prints one object {"id","name","role","default"} per line.`,
  accounts: `Usage: gatehouse accounts list [--project-id P] [--json] [--domain URL]`,
  'accounts list': `Usage: gatehouse accounts list [--project-id P] [--json] [--domain URL]

Lists the database accounts you may access or request: resource, account, database user,
whether a session asks for MFA or an approval, and the longest session your policies allow.
Without --project-id every project you may access in is listed (one project: no PROJECT
column). --project-id takes an id or a project name. --json prints one account per line.`,
  invitations: `Usage: gatehouse invitations accept <link-or-code> --help`,
  login: `Usage: gatehouse login --domain URL [--email E --password P] [--mfa-code C] [--mfa-method M]

Signs in to a Gatehouse server and keeps the tokens in the OS keychain (or a 0600 file
in the config dir when no keychain works). On a terminal, missing email and password are
prompted for (the password without echo). The domain becomes the default for later commands.
A domain without a scheme (host:port) means https://; for a plain-HTTP server (the demo)
write http://host:port.

When the server asks for a second factor, the code is prompted for on a terminal, or
taken from --mfa-code (scripts). --mfa-method picks the factor: totp (authenticator app,
the default when enrolled), email (a 6-digit code is mailed first; the command says so)
or recovery (one of your recovery codes).`,
  'mfa enroll': `Usage: gatehouse mfa enroll [--code C] [--qr] [--domain URL]

Turns on TOTP two-factor authentication for your user: prints the otpauth:// URL and the
secret (and a QR code on a UTF-8 terminal) to add to an authenticator app, then asks for
the code the app shows (or takes --code; off a terminal the next line of stdin), and prints
ten recovery codes once — store them somewhere safe. --qr draws the QR code even when the
terminal does not look like UTF-8.`,
  requests: `Usage:
  gatehouse requests list [--project-id P] [--status S] [--mine] [--json]
  gatehouse requests approve <id> [--comment TEXT]
  gatehouse requests deny <id> [--comment TEXT]`,
  'requests list': `Usage: gatehouse requests list [--project-id P] [--status S] [--mine] [--json] [--domain URL]

Lists access requests you may decide (approvers and admins), pending ones by default.
--status pending|approved|denied|expired|all; --mine lists your own requests instead.
--json prints one request object per line.`,
  'requests approve': `Usage: gatehouse requests approve <id> [--comment TEXT] [--json] [--domain URL]

Approves an access request (you must be one of its approvers; never your own request).
When the approvals reach the required count the requester's access window opens.`,
  'requests deny': `Usage: gatehouse requests deny <id> [--comment TEXT] [--json] [--domain URL]

Denies an access request; the requester sees your comment.`,
  mfa: `Usage: gatehouse mfa enroll --help`,
  logout: `Usage: gatehouse logout [--domain URL]

Signs out: the server forgets the refresh token and this machine forgets both tokens.
When you are not signed in it says so and exits 0.`,
  'db access': `Usage: gatehouse db access --resource R --account A [--project-id P] [options]

Starts an access session and a local proxy: psql, DBeaver or any driver connects to
127.0.0.1 on the account's port with no password. Runs until Ctrl+C, SIGTERM, expiry or
revocation, then ends the session.

Options:
  --resource R       the database (resource) name or id
  --account A        the account name or id
  --project-id P     the project, by id or name (default: the last project used, or your
                     only project; 'gatehouse accounts list' shows what you may access)
  --duration D       how long: 30m, 1h, 8h or seconds (default 1h)
  --port N           local port (remembered for this account from then on)
  --json             print one JSON line {"url","port","sessionId","expiresAt"} when ready
  --mfa-code C       the code for an account that requires MFA (else prompted on a terminal)
  --mfa-method M     totp (default), email (mails a code first) or recovery
  --reason TEXT      for an account that requires approval: file an access request with
                     this reason and wait for the decision (on a terminal it is asked for)
  --request-id ID    start with this approved access request
  --again ID         Access again: the resource, account and length of that (ended) session
  --local-password   for shared machines: clients must give a password generated for this
                     session (printed once, in the URL); other OS users are refused anyway
                     where the OS can tell (Linux)
  --domain URL       the Gatehouse server (default: the signed-in one)

Accounts that require approval: an approved request whose window is still open is
reused, a pending one is waited for, else a new request is filed. The command prints the
request id and "Waiting for approval…" until approvers decide, then starts the session
(it ends when the approved window ends at the latest). A denial exits 1 with the
approver's comment. Ctrl+C stops waiting; the request stays open.

A warning goes to stderr 5 minutes before the session expires (at once for shorter ones).
When this account already has a session running on this machine (another 'db access'),
the command prints that session's URL and exits 1 instead of starting a second one.

Refusals exit 1 with the server's reason: an account outside your policies
(POLICY_DENIED), too many failed sign-ins or codes (LOCKED_OUT, with when to retry).`,
  'sessions list': `Usage: gatehouse sessions list [--project-id P] [--status S] [--json] [--domain URL]

Lists your access sessions (all sessions for admins). --json prints one object per line.`,
  'sessions logs': `Usage: gatehouse sessions logs <session-id> [--tail N | --after SEQ] [--limit N] [--follow] [--json] [--domain URL]

Prints a session's log: connections and statements with their outcome and duration, one line
each in 80 columns (errors on a second line; colour on a terminal only).
  --tail N      only the newest N events (at most 1000)
  --after SEQ   only events after this seq (the "seq" of --json output)
  --limit N     stop after N events
  --follow, -f  keep printing new events until the session is over (Ctrl+C to stop)
--json prints one JSON object per event per line.`,
  'sessions extend': `Usage: gatehouse sessions extend <session-id> --duration D [--mfa-code C] [--mfa-method M] [--json] [--domain URL]

Extends a session that 'gatehouse db access' runs on this machine, in place: D (30m, 1h or
seconds) is added to its expiry, within your policy's maximum from now. The server issues a
certificate for the session's key; the running 'db access' picks it up, says "Session
extended until …" and no open connection drops. Accounts that require MFA ask for a code
(--mfa-code off a terminal); accounts that need approval cannot be extended (request again).`,
  'profiles write': `Usage: gatehouse profiles write --resource R --account A [--project-id P] [--pg-service] [--dbeaver] [--json] [--domain URL]

Writes client profiles for the account on its stable local port (both unless one is named):
  --pg-service  a section [gatehouse-<resource>-<account>] in PGSERVICEFILE or ~/.pg_service.conf:
                psql service=gatehouse-<resource>-<account>
  --dbeaver     a connection in DBeaver's default workspace (data-sources.json, folder "Gatehouse")
Your other services and connections stay as they are. Start 'gatehouse db access' (or the
desktop app) before connecting; no password is needed.`,
  'profiles remove': `Usage: gatehouse profiles remove --resource R --account A [--pg-service] [--dbeaver] [--json]

Removes the profiles 'profiles write' wrote for the account (both unless one is named).`,
  'profiles list': `Usage: gatehouse profiles list [--json]

Lists the client profiles Gatehouse wrote, with their file and port.`,
  profiles: `Usage:
  gatehouse profiles write --resource R --account A [--pg-service] [--dbeaver]
  gatehouse profiles remove --resource R --account A
  gatehouse profiles list`,
  db: `Usage: gatehouse db access --resource R --account A [--project-id P] [options]; see gatehouse db access --help`,
  sessions: `Usage:
  gatehouse sessions list [--json]
  gatehouse sessions logs <session-id> [--tail N] [--follow] [--json]
  gatehouse sessions extend <session-id> --duration 30m`,
};

export function usage(command?: string): string {
  return command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : TOP;
}
