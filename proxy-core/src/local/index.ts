export { LocalProxy, EXPIRY_WARNING_MS, type LocalProxyOptions, type LocalProxyStats, type LocalProxyEvents } from './local-proxy.ts';
export type { EndReason } from './client-errors.ts';
