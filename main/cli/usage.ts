const TOP = `gatehouse — just-in-time, audited access to PostgreSQL

Usage:
  gatehouse login --domain URL [--email E --password P]
  gatehouse logout [--domain URL]
  gatehouse db access --resource R --account A --project-id P [--duration 1h] [--port N] [--json] [--domain URL]
  gatehouse sessions list [--project-id P] [--status active|ended|revoked|expired] [--json] [--domain URL]
  gatehouse sessions logs <session-id> [--json] [--domain URL]

Every command takes --domain; after login the signed-in domain is the default.
Run 'gatehouse <command> --help' for details.`;

const COMMANDS: Record<string, string> = {
  login: `Usage: gatehouse login --domain URL [--email E --password P]

Signs in to a Gatehouse server and keeps the tokens in the OS keychain (or a 0600 file
in the config dir when no keychain works). On a terminal, missing email and password are
prompted for (the password without echo). The domain becomes the default for later commands.`,
  logout: `Usage: gatehouse logout [--domain URL]

Signs out: the server forgets the refresh token and this machine forgets both tokens.`,
  'db access': `Usage: gatehouse db access --resource R --account A --project-id P [options]

Starts an access session and a local proxy: psql, DBeaver or any driver connects to
127.0.0.1 on the account's port with no password. Runs until Ctrl+C, SIGTERM, expiry or
revocation, then ends the session.

Options:
  --resource R       the database (resource) name or id
  --account A        the account name or id
  --project-id P     the project (default: the last project used)
  --duration D       how long: 30m, 1h, 8h or seconds (default 1h)
  --port N           local port (remembered for this account from then on)
  --json             print one JSON line {"url","port","sessionId","expiresAt"} when ready
  --domain URL       the Gatehouse server (default: the signed-in one)`,
  'sessions list': `Usage: gatehouse sessions list [--project-id P] [--status S] [--json] [--domain URL]

Lists your access sessions (all sessions for admins). --json prints one object per line.`,
  'sessions logs': `Usage: gatehouse sessions logs <session-id> [--json] [--domain URL]

Prints a session's log: connections and statements with their outcome and duration.
--json prints one JSON object per event per line.`,
  db: `Usage: gatehouse db access --help`,
  sessions: `Usage:
  gatehouse sessions list [--json]
  gatehouse sessions logs <session-id> [--json]`,
};

export function usage(command?: string): string {
  return (command && COMMANDS[command]) || TOP;
}
