/**
 * Issue 9, "a gateway that never gives up": the control plane is SIGKILLed and SIGTERMed
 * while queries run through a `gatehouse db access` session. The gateway process stays up
 * (it used to exit with code 13), queries work again within 5 s of the control plane
 * listening, the CLI says what happens in words, and the session log holds exactly the
 * statements that ran (checked against a counter table read directly). A gateway started
 * while the control plane is down links once it is up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliUser } from './helpers.ts';
import { ACCOUNT, CounterWorkload, gatewayHealth, loggedInserts, sessionEvents, startClusterStack, until, type ClusterStack } from './cluster-stack.ts';
import { freePort } from '../fixtures/postgres.ts';

let stack: ClusterStack;
let user: CliUser;

beforeAll(async () => {
  stack = await startClusterStack({ replicas: 1 });
  user = await CliUser.login(stack.asStack);
}, 180_000);

afterAll(async () => {
  await user?.close();
  await stack?.close();
}, 60_000);

describe('issue 9: a gateway that never gives up', () => {
  it('control plane SIGKILL and SIGTERM restarts with queries running: gateway stays up, queries back within 5 s, log equals what ran', async () => {
    const access = await user.access(stack.asStack, { account: ACCOUNT, port: await freePort() });
    const work = new CounterWorkload(access.url).start();
    await until('queries running', () => work.ok.length >= 20, 20_000);
    const gateway = stack.gateway!;

    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      await stack.replicas[0].proc.kill(signal);
      const down = Date.now();
      // The gateway notices, stays up and says it is reconnecting.
      const health = await until(
        'the gateway to report the link down',
        async () => {
          const h = await gatewayHealth(stack.healthPort);
          return h.status === 503 ? h : undefined;
        },
        10_000,
      );
      expect(health.body).toMatchObject({ status: 'reconnecting', linked: false });
      await new Promise((r) => setTimeout(r, 2_500)); // a few redial attempts while it is away
      expect(gateway.exited()).toBe(false);
      expect(work.ok.filter((o) => o.at > down + 200)).toEqual([]);

      await stack.startReplica(0);
      const listening = Date.now();
      const backAt = await work.firstOkAfter(listening, 20_000);
      process.stderr.write(`[restarts] ${signal}: first query ${backAt - listening} ms after the control plane listened\n`);
      expect(backAt - listening, `${signal}: first query ${backAt - listening} ms after the control plane listened`).toBeLessThan(5_000);
      expect((await gatewayHealth(stack.healthPort)).status).toBe(200);
    }
    expect(gateway.exited()).toBe(false);
    // One readable line per failed attempt, and the relink.
    expect(gateway.output()).toMatch(
      /cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+ \((connection refused|connection reset)\); attempt \d+ failed, retrying in/,
    );
    expect(gateway.output()).toMatch(/linked to the control plane at .* after \d+ attempts/);

    await until('queries still running after the second restart', () => work.ok.at(-1)!.at > Date.now() - 1_000, 10_000);
    await work.stop();

    // The local proxy said it in words, not as JSON log lines.
    expect(access.stderr).toContain('connection to Gatehouse lost, reconnecting…');
    expect(access.stderr).toContain('reconnected to Gatehouse.');
    expect(access.stderr).not.toMatch(/^\{.*"level"/m);

    // Every statement that ran is logged exactly once, and nothing else: the counter table decides.
    const ran = await stack.counterRows();
    expect(ran.length).toBeGreaterThanOrEqual(work.ok.length);
    const events = await until(
      'the session log to catch up',
      async () => {
        const e = await sessionEvents(stack, access.sessionId);
        return loggedInserts(e).length >= ran.length ? e : undefined;
      },
      20_000,
    ).catch(async () => sessionEvents(stack, access.sessionId));
    const logged = loggedInserts(events);
    const missing = ran.filter((n) => !logged.includes(n));
    const about = events.filter((e) => missing.some((n) => e.sql?.includes(`(${n})`)));
    expect({ missing, about, extra: logged.filter((n) => !ran.includes(n)) }).toEqual({ missing: [], about: [], extra: [] });
    expect(logged).toEqual(ran);
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
    for (const { n } of work.ok) expect(ran).toContain(n);
    await access.stop();
  }, 150_000);

  it('a gateway started while the control plane is down links once it is up', async () => {
    await stack.gateway!.kill('SIGTERM');
    await stack.replicas[0].proc.kill('SIGTERM');
    const gateway = stack.startGateway();
    await until('redial attempts', () => (gateway.output().match(/attempt \d+ failed/g) ?? []).length >= 2, 20_000);
    expect(gateway.exited()).toBe(false);
    expect((await gatewayHealth(stack.healthPort)).body.status).toBe('reconnecting');

    await stack.startReplica(0);
    const listening = Date.now();
    await until('the gateway to link', async () => (await gatewayHealth(stack.healthPort)).status === 200, 10_000);
    process.stderr.write(`[restarts] gateway started first: linked ${Date.now() - listening} ms after the control plane listened\n`);
    expect(Date.now() - listening).toBeLessThan(5_000);
    const { body } = await stack.api<{ gateways: Array<{ id: string; connected: boolean }> }>('GET', '/gateways');
    expect(body.gateways.find((g) => g.id === stack.gatewayId)?.connected).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${stack.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/^gatehouse_gateway_linked 1$/m);
    expect(Number(/^gatehouse_gateway_link_attempts_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/^gatehouse_gateway_events_unacked \d+$/m);
  }, 60_000);
});
