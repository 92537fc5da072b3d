/**
 * What Access shows for an account: the CLI command exactly as users run it, and the
 * desktop app's "Open in Gatehouse" link (read by main/core/deep-link.ts, whose test checks
 * this shape). Plain functions, no DOM.
 */
export interface AccessTarget {
  projectId: string;
  resource: string;
  account: string;
  maxDurationSeconds?: number;
}

export function accessCommand(t: AccessTarget, duration: string, domain: string): string {
  return `gatehouse db access --resource ${shellWord(t.resource)} --account ${shellWord(t.account)} --project-id ${t.projectId} --duration ${duration} --domain ${domain}`;
}

export function accessLink(t: AccessTarget, duration: string, domain: string): string {
  const q = new URLSearchParams({ domain, projectId: t.projectId, resource: t.resource, account: t.account, duration });
  return `gatehouse://access?${q.toString()}`;
}

/** Names may hold spaces: quote them for a POSIX shell. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9._-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
