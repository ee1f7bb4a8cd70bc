// Public API of the PostgreSQL wire codec: bytes in, messages out, no sockets.

export * from './constants.js';
export { readStartupPacket, encodeStartupMessage, encodeCancelRequest } from './startup.js';
export type { StartupPacket, StartupReadResult } from './startup.js';
export { FrontendScanner } from './frontend-scanner.js';
export type { FrontendScannerOptions, ScanError } from './frontend-scanner.js';
export {
  ErrorField,
  errorResponse,
  noticeResponse,
  authenticationOk,
  backendKeyData,
  parameterStatus,
  readyForQuery,
  sslRefused,
  parseErrorFields,
} from './backend-messages.js';
export type { ErrorResponseFields, NoticeResponseFields } from './backend-messages.js';
export { BackendFramer, DEFAULT_MAX_BACKEND_MESSAGE_BYTES } from './backend-framer.js';
export type { BackendFramerOptions, FramedMessage } from './backend-framer.js';
export { ScramClient, SCRAM_SHA_256, MIN_SCRAM_ITERATIONS, MAX_SCRAM_ITERATIONS } from './scram.js';
export { saslprep } from './saslprep.js';
export { md5Password } from './md5.js';
export { WireError, ScramError } from './wire-error.js';
