// Wire constants of the PostgreSQL frontend/backend protocol (version 3),
// as documented in the PostgreSQL manual, chapter "Frontend/Backend Protocol".

/** Protocol 3.0 as sent in a StartupMessage: major 3 in the high 16 bits, minor 0 in the low 16. */
export const PROTOCOL_VERSION_3_0 = 196608;

/** Protocol 3.2 (PostgreSQL 18), the first version whose cancel keys may be longer than 4 bytes. */
export const PROTOCOL_VERSION_3_2 = 196610;

/** Major protocol version this codec reads; a StartupMessage with another major is rejected. */
export const PROTOCOL_MAJOR_VERSION = 3;

/** Request code of an SSLRequest, sent where a StartupMessage carries its protocol version. */
export const SSL_REQUEST_CODE = 80877103;

/** Request code of a GSSENCRequest. */
export const GSSENC_REQUEST_CODE = 80877104;

/** Request code of a CancelRequest. */
export const CANCEL_REQUEST_CODE = 80877102;

/** Maximum startup packet size PostgreSQL accepts (MAX_STARTUP_PACKET_LENGTH in libpq/pqcomm.h). */
export const MAX_STARTUP_PACKET_BYTES = 10_000;

/** Minimum startup packet size: the length field and the request code or protocol version. */
export const MIN_STARTUP_PACKET_BYTES = 8;

/** Minimum cancel secret key size, the fixed 4-byte key of protocol 3.0 and 3.1. */
export const MIN_CANCEL_SECRET_BYTES = 4;

/** Maximum cancel secret key size that protocol 3.2 allows. */
export const MAX_CANCEL_SECRET_BYTES = 256;

/** Size of the length field that starts every message and every startup packet. */
export const LENGTH_FIELD_BYTES = 4;

/** Size of a regular message header: the type byte and the length field. */
export const MESSAGE_HEADER_BYTES = 5;

/** Type bytes of the messages a client sends after startup, as byte values. */
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
  /** PasswordMessage, GSSResponse, SASLInitialResponse and SASLResponse share this byte. */
  Password: 0x70, // p
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const;

/** Type bytes of the messages a server sends, as byte values. */
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

/** Authentication request types carried in the first Int32 of an Authentication ('R') message. */
export const AuthenticationType = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Byte the server sends in place of a TLS handshake when it declines an SSLRequest or GSSENCRequest. */
export const SSL_REFUSED_BYTE = 0x4e; // N

// SQLSTATE codes the node puts in the ErrorResponses it sends (PostgreSQL manual, appendix A).
export const PROTOCOL_VIOLATION = '08P01';
export const CONNECTION_FAILURE = '08006';
export const SQLCLIENT_UNABLE_TO_ESTABLISH = '08001';
export const INVALID_AUTHORIZATION = '28000';
export const INVALID_PASSWORD = '28P01';
export const INVALID_CATALOG_NAME = '3D000';
export const ADMIN_SHUTDOWN = '57P01';
export const TOO_MANY_CONNECTIONS = '53300';
export const INTERNAL_ERROR = 'XX000';
export const PROGRAM_LIMIT_EXCEEDED = '54000';
export const INSUFFICIENT_PRIVILEGE = '42501';

/** The SQLSTATE constants above, grouped for callers that prefer one import. */
export const SqlState = {
  PROTOCOL_VIOLATION,
  CONNECTION_FAILURE,
  SQLCLIENT_UNABLE_TO_ESTABLISH,
  INVALID_AUTHORIZATION,
  INVALID_PASSWORD,
  INVALID_CATALOG_NAME,
  ADMIN_SHUTDOWN,
  TOO_MANY_CONNECTIONS,
  INTERNAL_ERROR,
  PROGRAM_LIMIT_EXCEEDED,
  INSUFFICIENT_PRIVILEGE,
} as const;
