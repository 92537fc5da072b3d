/**
 * Bad input costs only the connection it came on: garbage, truncated and oversized
 * messages thrown at the local proxy (before startup) and through it at the gateway (after
 * startup, where the recorder parses them) each end that connection with a clear error;
 * the processes keep serving the next client, and their memory stays bounded.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStack, type Stack } from '../../server/demo/stack.ts';
import { Access, CliUser, errorOf, RawClient } from './helpers.ts';

let stack: Stack;
let user: CliUser;
let access: Access;

beforeAll(async () => {
  stack = await startStack({ pgTls: false });
  user = await CliUser.login(stack);
  access = await user.access(stack, { account: 'readwrite' });
}, 120_000);

afterAll(async () => {
  await access?.stop();
  await user?.close();
  await stack?.close();
});

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function stillServes(): Promise<void> {
  const client = new pg.Client({ connectionString: access.url });
  await client.connect();
  const { rows } = await client.query('select 1 as ok');
  await client.end();
  expect(rows[0].ok).toBe(1);
}

function frame(code: string, payload: Buffer, lengthOverride?: number): Buffer {
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeUInt32BE(lengthOverride ?? payload.length + 4, 1);
  return Buffer.concat([head, payload]);
}

/** What a raw client sees before the connection closes: the error, if any. */
async function closeReason(raw: RawClient): Promise<{ sqlstate?: string; message?: string }> {
  for (;;) {
    const m = await raw.next(10_000).catch(() => undefined);
    if (!m) return {};
    if (m.code === 0x45) {
      const e = errorOf(m);
      return { sqlstate: e.code, message: e.message };
    }
  }
}

describe('bad input at the local proxy and the gateway', () => {
  it('garbage before the startup packet: 08P01, then the next client is served', async () => {
    for (let i = 0; i < 20; i++) {
      const raw = await RawClient.connect(access.port);
      raw.write(randomBytes(1 + ((i * 37) % 300)));
      raw.write(Buffer.alloc(8)); // a zero-length packet is never valid
      const reason = await closeReason(raw);
      if (reason.sqlstate) expect(reason.sqlstate).toBe('08P01');
      raw.end();
    }
    await stillServes();
  });

  it('an oversized startup packet is refused like PostgreSQL does', async () => {
    const raw = await RawClient.connect(access.port);
    const huge = Buffer.alloc(20_000);
    huge.writeUInt32BE(20_000, 0);
    huge.writeUInt32BE(196608, 4);
    raw.write(huge);
    const reason = await closeReason(raw);
    expect(reason.sqlstate).toMatch(/^(08P01|54000)$/);
    raw.end();
    await stillServes();
  });

  it('after startup: truncated, oversized and unknown messages end only that connection', async () => {
    const gatewayPid = stack.gateway.child.pid!;
    const rssBefore = await rssKiB(gatewayPid);
    const attacks: Buffer[] = [
      frame('Q', Buffer.alloc(0), 0x7fffffff), // claims 2 GiB
      frame('Q', Buffer.from('select 1'), 2), // length shorter than the header
      frame('P', Buffer.from([0, 0xff, 0xfe])), // Parse without terminators
      frame('B', Buffer.from([0, 0, 0xff, 0xff])), // Bind with an absurd count
      frame('\x01', randomBytes(64)), // not a message type at all
    ];
    for (const attack of attacks) {
      const raw = await RawClient.connect(access.port);
      const startup = await raw.startup({ user: 'x', database: 'shop' });
      expect(startup.at(-1)?.code).toBe(0x5a);
      raw.write(attack);
      const reason = await closeReason(raw);
      // Either our 08P01 (the gateway refuses a malformed frame) or PostgreSQL's own answer.
      if (reason.sqlstate) expect(reason.sqlstate).toMatch(/^[0-9A-Z]{5}$/);
      raw.end();
      await stillServes();
    }
    // A flood of garbage at full speed does not grow the gateway's memory without bound.
    const raw = await RawClient.connect(access.port);
    await raw.startup({ user: 'x', database: 'shop' });
    const chunk = frame('d', randomBytes(64 * 1024));
    for (let i = 0; i < 800 && !raw.closed; i++) raw.write(chunk); // ~50 MB of CopyData outside COPY (PostgreSQL ignores it)
    await raw.query('select 1').catch(() => undefined);
    raw.end();
    await stillServes();
    const rssAfter = await rssKiB(gatewayPid);
    expect(rssAfter - rssBefore).toBeLessThan(200 * 1024);
  }, 120_000);
});
