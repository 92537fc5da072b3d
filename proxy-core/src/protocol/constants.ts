/**
 * PostgreSQL wire protocol constants.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

/** Typed messages sent by the client (frontend). */
export const FrontendCode = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  /** PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse share 'p'. */
  Password: 0x70, // p
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const;
export type FrontendCode = (typeof FrontendCode)[keyof typeof FrontendCode];

/** Typed messages sent by the server (backend). */
export const BackendCode = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyBothResponse: 0x57, // W
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const;
export type BackendCode = (typeof BackendCode)[keyof typeof BackendCode];

/** Authentication request subtypes (Int32 after 'R'). */
export const AuthCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;
export type AuthCode = (typeof AuthCode)[keyof typeof AuthCode];

/** ErrorResponse / NoticeResponse field type bytes. */
export const ErrorField = {
  Severity: 0x53, // S (localized)
  SeverityNonLocalized: 0x56, // V
  Code: 0x43, // C
  Message: 0x4d, // M
  Detail: 0x44, // D
  Hint: 0x48, // H
  Position: 0x50, // P
  InternalPosition: 0x70, // p
  InternalQuery: 0x71, // q
  Where: 0x57, // W
  Schema: 0x73, // s
  Table: 0x74, // t
  Column: 0x63, // c
  DataType: 0x64, // d
  Constraint: 0x6e, // n
  File: 0x46, // F
  Line: 0x4c, // L
  Routine: 0x52, // R
} as const;

/** Untyped startup packet request codes. */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

export const PROTOCOL_3_0 = 196608; // 3 << 16 | 0
export const PROTOCOL_3_2 = 196610; // 3 << 16 | 2

/** PostgreSQL's NAMEDATALEN: a name (user, database, application_name) holds at most NAMEDATALEN − 1 bytes. */
export const NAMEDATALEN = 64;

/** PostgreSQL's own MAX_STARTUP_PACKET_LENGTH. */
export const MAX_STARTUP_PACKET_LENGTH = 10_000;
/** Default cap for one typed message (PostgreSQL allows up to 1 GiB - 1). */
export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;
/** Cancel keys: exactly 4 bytes on 3.0, up to 256 bytes on 3.2. */
export const MAX_CANCEL_KEY_LENGTH = 256;

/** Typed message header: code byte + Int32 length (length counts itself). */
export const MESSAGE_HEADER_LENGTH = 5;
/** Untyped packet header: Int32 length. */
export const STARTUP_HEADER_LENGTH = 4;

export type TransactionStatus = 'I' | 'T' | 'E';
