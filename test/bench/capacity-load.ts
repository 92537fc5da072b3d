/**
 * The load of the bench's relay-capacity measure, run as its own process (so its CPU is not
 * the relay's): N access sessions of the signed-in user (GATEHOUSE_HOME), each with its own
 * local proxy and tunnel through the one relay, and one connection per session running
 * `select 1` in a loop. Talks to the bench over IPC:
 *   → { ready: true } once every session's connection answered
 *   ← { go: seconds } … → { queries } when the loop ended
 *   ← { stop: true } ends the sessions and exits.
 * argv: <domain> <projectId> <resource> <account> <sessions>
 */
import { createServer } from 'node:net';
import pg from 'pg';
import { ApiClient } from '../../main/core/api/api-client.ts';
import { SecretStoreTokenProvider } from '../../main/core/api/token-providers.ts';
import { configDir } from '../../main/core/config-dir.ts';
import { createSecretStore } from '../../main/core/secrets/create-secret-store.ts';
import { SettingsStore } from '../../main/core/settings/settings-store.ts';
import { SessionManager } from '../../main/core/access/session-manager.ts';

const [domain, projectId, resource, account, count] = process.argv.slice(2);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const dir = configDir(process.env);
const secrets = await createSecretStore({ dir, prefer: 'file' });
const api = new ApiClient({ domain, tokens: new SecretStoreTokenProvider(secrets.store, domain) });
const manager = new SessionManager({ api, settings: new SettingsStore({ dir }) });
const clients: pg.Client[] = [];
for (let i = 0; i < Number(count); i += 1) {
  const status = await manager.start({ projectId, resource, account, duration: '1h', port: await freePort() });
  const client = new pg.Client({ host: '127.0.0.1', port: status.port, database: 'shop', user: 'bench', ssl: false });
  await client.connect();
  await client.query('select 1');
  clients.push(client);
}
process.send?.({ ready: true });

process.on('message', (m: { go?: number; stop?: boolean }) => {
  if (m.go !== undefined) {
    const until = Date.now() + m.go * 1000;
    void Promise.all(
      clients.map(async (client) => {
        let n = 0;
        while (Date.now() < until) {
          await client.query('select 1');
          n += 1;
        }
        return n;
      }),
    ).then((counts) => process.send?.({ queries: counts.reduce((a, b) => a + b, 0) }));
  }
  if (m.stop) {
    void Promise.allSettled(clients.map((c) => c.end()))
      .then(() => manager.close())
      .finally(() => process.exit(0));
  }
});
