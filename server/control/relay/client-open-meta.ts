/** What a client may say about a stream it opens (`StreamOpenMeta`), validated at the edge. */
export interface ClientOpenMeta {
  kind: 'pg' | 'cancel';
  clientAddress?: string;
  applicationName?: string;
  clientUser?: string;
  clientOsUser?: string;
  clientPid?: number;
  clientProcess?: string;
}

const MAX_FIELD_LENGTH = 256;
const MAX_META_BYTES = 4096;

function optionalString(value: unknown): string | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_FIELD_LENGTH) return null;
  return value;
}

/** Parse the JSON payload of a client's OPEN frame; undefined when it is not valid. */
export function parseClientOpenMeta(payload: Buffer): ClientOpenMeta | undefined {
  if (payload.length > MAX_META_BYTES) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (m.kind !== 'pg' && m.kind !== 'cancel') return undefined;
  const clientAddress = optionalString(m.clientAddress);
  const applicationName = optionalString(m.applicationName);
  const clientUser = optionalString(m.clientUser);
  const clientOsUser = optionalString(m.clientOsUser);
  const clientProcess = optionalString(m.clientProcess);
  const clientPid = m.clientPid === undefined ? undefined : Number.isSafeInteger(m.clientPid) && (m.clientPid as number) > 0 ? (m.clientPid as number) : null;
  if (clientAddress === null || applicationName === null || clientUser === null || clientOsUser === null || clientProcess === null || clientPid === null) return undefined;
  const meta: ClientOpenMeta = { kind: m.kind };
  if (clientAddress !== undefined) meta.clientAddress = clientAddress;
  if (applicationName !== undefined) meta.applicationName = applicationName;
  if (clientUser !== undefined) meta.clientUser = clientUser;
  if (clientOsUser !== undefined) meta.clientOsUser = clientOsUser;
  if (clientPid !== undefined) meta.clientPid = clientPid;
  if (clientProcess !== undefined) meta.clientProcess = clientProcess;
  return meta;
}
