/** Where and how the gateway connects for one resource + account (docs/architecture.md). */
export interface UpstreamTarget {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  ssl: UpstreamSsl;
  /**
   * Password methods weaker than SCRAM the gateway may answer (issue 10 item 2). Absent or
   * false: SCRAM only, so a server that asks for MD5 or cleartext gets no password.
   * Cleartext is sent only over TLS that verifies the server (`ssl.rejectUnauthorized`).
   */
  authMethods?: UpstreamAuthMethods;
}

export interface UpstreamAuthMethods {
  md5: boolean;
  cleartext: boolean;
}

export interface UpstreamSsl {
  enabled: boolean;
  /** Verify the chain (against `ca` or the system store) and the host name. */
  rejectUnauthorized: boolean;
  /** PEM of the CA(s) to trust instead of the system store. */
  ca?: string;
}

/** What the client sent in its StartupMessage. */
export interface ClientStartup {
  protocolVersion: number;
  parameters: Record<string, string>;
  protocolOptions: Record<string, string>;
}

export interface BackendKey {
  processId: number;
  secretKey: Buffer;
}
