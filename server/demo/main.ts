/**
 * `npm run demo`: the whole product on embedded defaults. Prints what a person needs to try
 * it (or, with `--json`, exactly one JSON line once everything is ready) and runs until
 * Ctrl+C / SIGTERM, then stops everything it started. Progress goes to stderr, so stdout
 * stays that one line (`npm run -s demo -- --json`: without -s npm prints its own banner).
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from './stack.ts';

function usage(): string {
  return [
    'usage: npm run demo -- [--json] [--port N] [--data-dir DIR]',
    '  --json          print one JSON line when ready (for scripts; use npm run -s so npm adds no banner)',
    '  --port N        control plane port (default 8080; 0 = any free port)',
    '  --data-dir DIR  keep server and gateway data here (default: a fresh temp dir)',
    'The URL, project id and password are new on every run: use the ones it prints.',
  ].join('\n');
}

function describe(stack: Stack): string {
  const cli = 'npx gatehouse';
  return [
    '',
    'Gatehouse demo is running.',
    '',
    `  Web console     ${stack.domain}/   (open it in a browser)`,
    `  Admin sign-in   ${stack.email} / ${stack.password}`,
    `  Control plane   ${stack.domain}/api/v1`,
    `  Project id      ${stack.projectId}`,
    `  Resource        ${stack.resource} (PostgreSQL on 127.0.0.1:${stack.pg.port}, database "shop", TLS on)`,
    `  Accounts        ${stack.accounts.join(', ')}`,
    '',
    'Try it:',
    `  ${cli} login --domain ${stack.domain} --email ${stack.email} --password '${stack.password}'`,
    `  ${cli} accounts list`,
    `  ${cli} db access --resource ${stack.resource} --account readonly --duration 1h`,
    '  psql "<the URL it prints>" -c "select * from customers"',
    `  ${cli} sessions logs <session id>`,
    '',
    'These values are new on every run. Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean', default: false },
        port: { type: 'string', default: '8080' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage()}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number (0-65535), got "${args.port}"\n`);
    return 2;
  }
  if (port !== 0 && !(await portIsFree(port))) {
    process.stderr.write(
      `demo: port ${port} is taken (another demo, or another program, listens on 127.0.0.1:${port}); stop it, or pick another port: npm run demo -- --port 0 (any free port)\n`,
    );
    return 1;
  }
  const stopRequested = onStopSignal();
  const say = (line: string) => process.stderr.write(`demo: ${line}…\n`);
  const started = Date.now();

  let stack: Stack;
  try {
    stack = await startStack({ port, dataDir: args['data-dir'], env: { GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn' }, onProgress: say });
  } catch (err) {
    process.stderr.write(`demo failed to start: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`demo: ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  // The console is built on its first page request when missing or stale: do that now, so
  // the URL printed below opens at once.
  const consoleReady = await warmConsole(stack.domain);
  if (!consoleReady.ok && !args.json) process.stderr.write(`the web console is not available: ${consoleReady.message}\n`);

  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({
        domain: stack.domain,
        projectId: stack.projectId,
        email: stack.email,
        password: stack.password,
        resource: stack.resource,
        accounts: stack.accounts,
      })}\n`,
    );
  } else {
    process.stdout.write(describe(stack));
  }

  await stopRequested;
  process.stderr.write('demo: stopping…\n');
  await stack.close();
  return 0;
}

/**
 * Resolves at the first Ctrl+C / SIGTERM, or when the process that started the demo is gone
 * (`kill <npm's pid>` ends npm's shell, which does not pass the signal on: the demo would
 * run on, orphaned). Later signals are absorbed while the demo stops: a terminal's Ctrl+C
 * reaches npm and the demo both, and npm forwards it once more.
 */
function onStopSignal(): Promise<void> {
  return new Promise((resolveStop) => {
    let seen = false;
    const parent = process.ppid;
    const orphaned = setInterval(() => {
      if (process.ppid !== parent) stop();
    }, ORPHAN_CHECK_MS);
    orphaned.unref();
    function stop(): void {
      clearInterval(orphaned);
      if (seen) return;
      seen = true;
      resolveStop();
    }
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const ORPHAN_CHECK_MS = 500;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => resolveFree(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolveFree(true)));
  });
}

async function warmConsole(domain: string): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    const res = await fetch(`${domain}/`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(240_000) });
    const text = await res.text();
    return res.ok ? { ok: true } : { ok: false, message: text.trim() };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

process.exit(await main(process.argv.slice(2)));
