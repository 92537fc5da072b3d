/**
 * Who is on the other end of a loopback connection to the local proxy (issue 10 item 4).
 *
 * Linux: the client's socket is the row of `/proc/net/tcp` (or `tcp6`, for IPv4-mapped
 * clients) whose local end is the connection's remote address and port and whose remote end is
 * the proxy's; its `uid` column is the OS user that owns it, and its inode leads to the process
 * (`/proc/<pid>/fd/* -> socket:[inode]`, readable for our own user's processes).
 *
 * macOS and Windows: no such table is read here (their equivalents are `lsof`/`proc_pidinfo`
 * and `GetExtendedTcpTable`). The decision: the check fails OPEN there, with a warning logged
 * once per proxy, because refusing every connection would make the product unusable; the
 * per-session local password (`--local-password`) is the protection on shared machines.
 * `PeerCheck` is the hook a platform implementation plugs into.
 */
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { createLogger } from '../log.ts';

const log = createLogger('local-proxy');

/** How long the process lookup may take before the connection goes ahead without a pid. */
const PROCESS_LOOKUP_BUDGET_MS = 250;
const PROCESS_LOOKUP_BATCH = 16;

export interface LocalPeer {
  uid: number;
  user?: string;
  pid?: number;
  /** The process name (`/proc/<pid>/comm`). */
  comm?: string;
}

export type PeerVerdict = { allowed: true; peer?: LocalPeer } | { allowed: false; reason: string; peer?: LocalPeer };

/** Decides whether a client connection may use this session's proxy. */
export type PeerCheck = (socket: Socket) => Promise<PeerVerdict>;

export interface PeerCheckOptions {
  platform?: NodeJS.Platform;
  /** The OS user allowed to connect; default: the user running the proxy. */
  uid?: number;
  /** Root for `/proc` (tests). */
  procRoot?: string;
}

/** The check for this platform: same-OS-user on Linux, a warning elsewhere. */
export function defaultPeerCheck(options: PeerCheckOptions = {}): PeerCheck {
  const platform = options.platform ?? process.platform;
  if (platform === 'linux') return sameUserPeerCheck(options);
  let warned = false;
  return () => {
    if (!warned) {
      warned = true;
      log.warn(
        { platform },
        "the local proxy cannot tell which OS user connects on this platform; any local user can use this session's port. On a shared machine, use a local password (gatehouse db access --local-password)",
      );
    }
    return Promise.resolve({ allowed: true });
  };
}

/** Linux: only the OS user running the proxy may connect. */
export function sameUserPeerCheck(options: PeerCheckOptions = {}): PeerCheck {
  const ownUid = options.uid ?? process.getuid?.() ?? -1;
  const procRoot = options.procRoot ?? '/proc';
  return async (socket) => {
    const found = findPeerSocket(socket, procRoot);
    if (!found) {
      return { allowed: false, reason: 'the local proxy could not tell which OS user opened this connection, so it refuses it' };
    }
    const user = userName(found.uid);
    if (found.uid !== ownUid) {
      const owner = userName(ownUid) ?? `uid ${ownUid}`;
      return {
        allowed: false,
        reason: `this Gatehouse session belongs to OS user "${owner}", but the connection comes from OS user "${user ?? `uid ${found.uid}`}"; only the user who started the access may connect (or use a local password on shared machines)`,
        peer: { uid: found.uid, ...(user !== undefined && { user }) },
      };
    }
    const proc = await findProcess(found.inode, found.uid, procRoot);
    return { allowed: true, peer: { uid: found.uid, ...(user !== undefined && { user }), ...proc } };
  };
}

interface SocketRow {
  uid: number;
  inode: string;
}

/**
 * The row of the client's end of `socket` in /proc/net/tcp{,6}.
 *
 * Read a chunk at a time and stopped at the row: the kernel walks its whole established-socket
 * hash table for each read(2) that reaches the end of the file (about 4 ms on a VM with a large
 * table, against 0.4 ms for the first chunk), and a freshly accepted socket is found in the first
 * chunk unless thousands of sockets are open. The table the client's address family lives in is
 * read first.
 */
export function findPeerSocket(socket: Socket, procRoot = '/proc'): SocketRow | undefined {
  const clientAddress = normalize(socket.remoteAddress);
  const clientPort = socket.remotePort;
  const proxyAddress = normalize(socket.localAddress);
  const proxyPort = socket.localPort;
  if (!clientAddress || clientPort === undefined || !proxyAddress || proxyPort === undefined) return undefined;
  const v6First = socket.remoteAddress?.includes(':') === true;
  const matches = (line: string): SocketRow | undefined => {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) return undefined;
    const local = parseEndpoint(f[1]);
    const remote = parseEndpoint(f[2]);
    if (!local || !remote) return undefined;
    if (local.port === clientPort && remote.port === proxyPort && local.address === clientAddress && remote.address === proxyAddress) {
      return { uid: Number(f[7]), inode: f[9] };
    }
    return undefined;
  };
  for (const file of v6First ? ['net/tcp6', 'net/tcp'] : ['net/tcp', 'net/tcp6']) {
    const found = scanLines(`${procRoot}/${file}`, matches);
    if (found) return found;
  }
  return undefined;
}

const SCAN_CHUNK = 64 * 1024;

/**
 * Calls `match` on each line of `path` (after the header) until it returns a value; stops reading
 * there. Synchronous on purpose: a read of one 4 KiB page of the table is a fraction of a
 * millisecond of kernel time, while each asynchronous open/read/close waits for a libuv pool
 * thread, which on a loaded machine added milliseconds to every new connection.
 */
function scanLines<T>(path: string, match: (line: string) => T | undefined): T | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const chunk = Buffer.allocUnsafe(SCAN_CHUNK);
    let carry = '';
    let header = true;
    for (;;) {
      const bytesRead = readSync(fd, chunk, 0, SCAN_CHUNK, null);
      const lines = (carry + chunk.toString('latin1', 0, bytesRead)).split('\n');
      carry = bytesRead === 0 ? '' : (lines.pop() ?? '');
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        const found = match(line);
        if (found !== undefined) return found;
      }
      if (bytesRead === 0) return undefined;
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** `0100007F:1F90` (tcp) or 32 hex digits + port (tcp6) → dotted IPv4 (mapped too) or hex IPv6. */
export function parseEndpoint(text: string): { address: string; port: number } | undefined {
  const [hex, portHex] = text.split(':');
  if (!hex || !portHex) return undefined;
  const port = parseInt(portHex, 16);
  if (hex.length === 8) return { address: ipv4FromWord(hex), port };
  if (hex.length !== 32) return undefined;
  const words = [0, 8, 16, 24].map((i) => hex.slice(i, i + 8));
  // Each 32-bit word is in host (little-endian) order.
  const bytes = words.flatMap((w) => [6, 4, 2, 0].map((i) => parseInt(w.slice(i, i + 2), 16)));
  const isMapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isMapped) return { address: bytes.slice(12).join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return { address: groups.join(':') === '0:0:0:0:0:0:0:1' ? '::1' : groups.join(':'), port };
}

function ipv4FromWord(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function normalize(address: string | undefined): string | undefined {
  if (!address) return undefined;
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Processes that held recent clients' sockets, most recent first: a client usually connects again. */
const recentPids: number[] = [];
const RECENT_PIDS = 8;

function rememberPid(pid: number): void {
  const at = recentPids.indexOf(pid);
  if (at >= 0) recentPids.splice(at, 1);
  recentPids.unshift(pid);
  recentPids.length = Math.min(recentPids.length, RECENT_PIDS);
}

/**
 * The pid and name of the process holding socket `inode`, looking only at `uid`'s processes:
 * first those that held recent clients' sockets (pgbench, a pool, an IDE reconnecting), then the
 * rest newest first (a client usually just started), in small parallel batches, within a budget.
 */
async function findProcess(inode: string, uid: number, procRoot: string): Promise<{ pid?: number; comm?: string }> {
  const target = `socket:[${inode}]`;
  const deadline = Date.now() + PROCESS_LOOKUP_BUDGET_MS;
  const holds = async (pid: number): Promise<boolean> => {
    try {
      if ((await stat(`${procRoot}/${pid}`)).uid !== uid) return false;
      for (const fd of await readdir(`${procRoot}/${pid}/fd`)) {
        if ((await readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '')) === target) return true;
      }
    } catch {
      // the process went away or is not ours to read
    }
    return false;
  };
  const named = (pid: number): { pid: number; comm?: string } => {
    rememberPid(pid);
    const comm = readSmall(`${procRoot}/${pid}/comm`).trim();
    return { pid, ...(comm && { comm }) };
  };
  const recent = [...recentPids];
  const again = recent.find((pid) => holdsNow(pid, uid, target, procRoot));
  if (again !== undefined) return named(again);
  let pids: number[];
  try {
    pids = (await readdir(procRoot))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => !recent.includes(pid))
      .sort((a, b) => b - a);
  } catch {
    return {};
  }
  for (let i = 0; i < pids.length && Date.now() <= deadline; i += PROCESS_LOOKUP_BATCH) {
    const batch = pids.slice(i, i + PROCESS_LOOKUP_BATCH);
    const found = (await Promise.all(batch.map(async (pid) => ((await holds(pid)) ? pid : undefined)))).find((pid) => pid !== undefined);
    if (found !== undefined) return named(found);
  }
  return {};
}

/** `holds` for the few recently seen pids, synchronously (a few syscalls each, no pool round trips). */
function holdsNow(pid: number, uid: number, target: string, procRoot: string): boolean {
  try {
    if (statSync(`${procRoot}/${pid}`).uid !== uid) return false;
    for (const fd of readdirSync(`${procRoot}/${pid}/fd`)) {
      try {
        if (readlinkSync(`${procRoot}/${pid}/fd/${fd}`) === target) return true;
      } catch {
        // the descriptor closed meanwhile
      }
    }
  } catch {
    // the process went away or is not ours to read
  }
  return false;
}

/** A small file's text, or '' (read synchronously: one open/read/close, no pool round trips). */
function readSmall(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The name of `uid` in /etc/passwd (read each time: users come and go). */
function userName(uid: number): string | undefined {
  for (const line of readSmall('/etc/passwd').split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && Number(f[2]) === uid) return f[0];
  }
  return undefined;
}
