/**
 * Issue 14 (CLI): the three CLIs as a newcomer meets them. Every subcommand answers --help
 * with its flags (every flag the README shows for it) and exits 0 without doing anything
 * else; --version everywhere; a second demo on a taken port says so; `npm start` without an
 * Electron runtime explains itself in one line.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMAND_NAMES, main as gatehouse } from '../../main/cli/main.ts';
import { GATEWAY_COMMAND_HELP, main as gateway } from '../../server/gateway/cli.ts';
import { main as server, SERVER_COMMAND_NAMES } from '../../server/control/cli.ts';
import { ROOT } from './helpers.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const execFileP = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'gatehouse-surface-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function runGatehouse(argv: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: '', stderr: '' };
  stdout.on('data', (d) => (chunks.stdout += d));
  stderr.on('data', (d) => (chunks.stderr += d));
  const code = await gatehouse(argv, { stdout, stderr, stdin: new PassThrough(), env: { GATEHOUSE_HOME: home, GATEHOUSE_SECRET_STORE: 'file' } });
  return { code, ...chunks };
}

/** The server and gateway CLIs write to the process's streams: capture them. */
async function capture(run: () => Promise<number>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
  try {
    return { code: await run(), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The README's command lines for one CLI: `<cli> <words> … --flag …` (continuation lines included). */
function readmeLines(cli: string): string[] {
  const lines: string[] = [];
  for (const block of README.matchAll(/```bash\n([\s\S]*?)```/g)) {
    let continues = false;
    for (const raw of block[1].split('\n')) {
      const line = raw.replace(/^npx /, '').replace(/\s+#.*$/, '');
      if (line.startsWith(`${cli} `)) lines.push(line);
      else if (continues && /^\s+\[--/.test(line)) lines[lines.length - 1] += line;
      continues = line.startsWith(`${cli} `) || (continues && /^\s+\[--/.test(line));
    }
  }
  return lines;
}

function commandOf(line: string, cli: string, names: readonly string[]): string | undefined {
  const words = line.slice(cli.length + 1);
  return [...names].sort((a, b) => b.length - a.length).find((n) => words === n || words.startsWith(`${n} `));
}

const flagsOf = (line: string) => [...new Set(line.match(/--[a-z][a-z-]*/g) ?? [])].filter((f) => f !== '--help' && f !== '--version');

describe('issue 14 CLI: every subcommand answers --help with its flags and exits 0, doing nothing else', () => {
  it('gatehouse: each command (and group) prints its own usage on stdout, touches no file, exits 0', async () => {
    expect(COMMAND_NAMES.length).toBeGreaterThanOrEqual(12);
    for (const name of COMMAND_NAMES) {
      for (const flag of ['--help', '-h']) {
        const r = await runGatehouse([...name.split(' '), flag, '--domain', 'http://127.0.0.1:1']);
        expect(r.code, `${name} ${flag}`).toBe(0);
        expect(r.stderr, name).toBe('');
        expect(r.stdout, name).toContain(`Usage: gatehouse ${name}`);
      }
      expect((await runGatehouse(['help', ...name.split(' ')])).stdout).toContain(`Usage: gatehouse ${name}`);
    }
    for (const group of new Set(COMMAND_NAMES.filter((n) => n.includes(' ')).map((n) => n.split(' ')[0]))) {
      const r = await runGatehouse([group, '--help']);
      expect(r.code, group).toBe(0);
      expect(r.stdout, group).toContain(`gatehouse ${group} `);
    }
    expect(await readdir(home)).toEqual([]); // nothing signed in, nothing written
  });

  it("gatehouse: every flag the README shows for a command is in that command's --help, and every command is in the README", async () => {
    const lines = readmeLines('gatehouse');
    const documented = new Set<string>();
    for (const line of lines) {
      const name = commandOf(line, 'gatehouse', COMMAND_NAMES);
      if (!name) continue;
      documented.add(name);
      const help = (await runGatehouse([...name.split(' '), '--help'])).stdout;
      for (const flag of flagsOf(line)) expect(help, `${name}: ${flag}`).toContain(flag);
    }
    expect([...documented].sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('gatehouse-server: start --help does not start a server or create the data dir; every README flag is listed', async () => {
    const dataDir = join(home, 'not-created');
    for (const name of SERVER_COMMAND_NAMES) {
      const r = await capture(() => server([...name.split(' '), '--help', '--data-dir', dataDir]));
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(`Usage: gatehouse-server ${name}`);
      expect(r.stdout).toContain('--data-dir DIR');
    }
    expect(existsSync(dataDir)).toBe(false);
    const startHelp = (await capture(() => server(['start', '--help']))).stdout;
    // the flag tables in the README (control plane and "Server flags"; the gateway's has its own check)
    const tableFlags = [...README.replace(readmeSection('### Gateway'), '').matchAll(/^\| `(--[a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(tableFlags.length).toBeGreaterThanOrEqual(10);
    for (const flag of tableFlags) expect(startHelp, flag).toContain(flag);
    for (const line of readmeLines('gatehouse-server')) {
      const name = commandOf(line, 'gatehouse-server', SERVER_COMMAND_NAMES);
      if (!name) continue;
      const help = (await capture(() => server([...name.split(' '), '--help']))).stdout;
      for (const flag of flagsOf(line)) expect(help, `${name}: ${flag}`).toContain(flag);
    }
    expect((await capture(() => server(['--help']))).code).toBe(0);
    expect((await capture(() => server(['help', 'bootstrap']))).stdout).toContain('Usage: gatehouse-server bootstrap');
  });

  it('gatehouse-gateway: each subcommand has its own --help (README flags included) and exits 0', async () => {
    for (const name of Object.keys(GATEWAY_COMMAND_HELP)) {
      const r = await capture(() => gateway([name, '--help']));
      expect(r.code, name).toBe(0);
      expect(r.stdout).toContain(`Usage: gatehouse-gateway ${name}`);
      for (const line of readmeLines('gatehouse-gateway').filter((l) => l.startsWith(`gatehouse-gateway ${name} `))) {
        for (const flag of flagsOf(line)) expect(r.stdout, `${name}: ${flag}`).toContain(flag);
      }
    }
    // the gateway's flag table in the README
    const startHelp = (await capture(() => gateway(['start', '--help']))).stdout;
    const tableFlags = [...readmeSection('### Gateway').matchAll(/^\| `(--[a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(tableFlags.length).toBeGreaterThanOrEqual(4);
    for (const flag of tableFlags) expect(startHelp, flag).toContain(flag);
  });

  it('mistakes a newcomer makes exit 2 with a hint: a misspelt server flag, a missing subcommand, an unknown command', async () => {
    const typo = await capture(() => server(['start', '--datadir', '/tmp/x']));
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown flag --datadir (did you mean --data-dir?)');
    const noValue = await capture(() => server(['start', '--port']));
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain('--port needs a value');
    expect((await capture(() => server(['audit']))).stderr).toContain("'audit' needs a subcommand: audit verify");
    expect((await capture(() => gateway(['frobnicate', '--domain', 'http://x']))).code).toBe(2);
    const proto = await runGatehouse(['constructor']);
    expect(proto.code).toBe(2);
    expect(proto.stderr).toContain("unknown command 'constructor'");
  });
});

describe('issue 14 CLI: --version everywhere', () => {
  it('each CLI prints its name and the package version, in-process and through its bin entry point', async () => {
    expect((await runGatehouse(['--version'])).stdout.trim()).toBe(`gatehouse ${VERSION}`);
    expect((await runGatehouse(['db', 'access', '--version'])).stdout.trim()).toBe(`gatehouse ${VERSION}`);
    expect((await capture(() => server(['start', '--version']))).stdout.trim()).toBe(`gatehouse-server ${VERSION}`);
    expect((await capture(() => gateway(['--version']))).stdout.trim()).toBe(`gatehouse-gateway ${VERSION}`);
    const bins = ['gatehouse', 'gatehouse-server', 'gatehouse-gateway'];
    const outs = await Promise.all(
      bins.map((b) => execFileP(process.execPath, [join(ROOT, 'bin', `${b}.mjs`), '--version'], { env: { ...process.env, GATEHOUSE_HOME: home } })),
    );
    outs.forEach((o, i) => expect(o.stdout.trim()).toBe(`${bins[i]} ${VERSION}`));
  });
});

describe('issue 14 CLI: a second demo on a taken port, npm start without Electron', () => {
  let busy: Server;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => busy.close(() => r())));

  it('the demo says the port is taken and exits 1 before starting anything (stdout empty with --json)', async () => {
    const port = (busy.address() as { port: number }).port;
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { demo: string } }).scripts.demo;
    const started = Date.now();
    const r = await execFileP('sh', ['-c', `exec ${script} --json --port ${port}`], { cwd: ROOT, env: { ...process.env, TMPDIR: home } }).then(
      (o) => ({ code: 0, ...o }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`port ${port} is taken`);
    expect(r.stderr).toContain('--port 0');
    expect(r.stderr).not.toContain('PostgreSQL'); // refused before starting anything
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('npm start without an Electron runtime prints one line saying why and exits 1, no stack trace', async () => {
    const present = existsSync(join(ROOT, 'node_modules/electron/path.txt'));
    // a binary that is not there stands for "no runtime" wherever the suite runs
    const env = { ...process.env, GATEHOUSE_ELECTRON: join(home, 'no-electron-here') };
    const r = await execFileP('npm', ['start', '--silent'], { cwd: ROOT, env }).then(
      (o) => ({ code: 0, ...o }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npm start: cannot run the desktop app: GATEHOUSE_ELECTRON=.* does not exist\. .*npx gatehouse/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    if (!present) {
      // and with nothing configured, the download is tried, fails here (no network), and is explained
      const offline = await execFileP('npm', ['start', '--silent'], {
        cwd: ROOT,
        env: { ...process.env, GATEHOUSE_ELECTRON: '', ELECTRON_MIRROR: 'http://127.0.0.1:1/' },
      }).then(
        (o) => ({ code: 0, ...o }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(offline.code).toBe(1);
      expect(offline.stderr).toMatch(/cannot run the desktop app: Electron's runtime was never downloaded .*the download failed/);
      expect(offline.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

/** The README from a heading to the next heading of the same or a higher level. */
function readmeSection(heading: string): string {
  const start = README.indexOf(`\n${heading}`);
  if (start === -1) throw new Error(`README has no "${heading}"`);
  const level = heading.split(' ')[0];
  const next = README.slice(start + 1).search(new RegExp(`\\n#{1,${level.length}} `));
  return next === -1 ? README.slice(start) : README.slice(start, start + 1 + next);
}
