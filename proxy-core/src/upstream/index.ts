export { connectUpstream, DEFAULT_CONNECT_TIMEOUT_MS, type ConnectUpstreamOptions, type UpstreamConnection } from './connect.ts';
export { serveClientStream, type ClientStreamHandle, type CloseReason, type ConnectInfo, type RecorderHooks, type ServeClientStreamOptions } from './serve.ts';
export { sendCancel } from './cancel.ts';
export { UpstreamError, isUpstreamError } from './upstream-error.ts';
export type { UpstreamTarget, UpstreamSsl, ClientStartup, BackendKey } from './types.ts';
