/**
 * Builds the desktop app for Electron: the main process and the sandboxed preload bundled
 * to CommonJS (dist/electron), the renderer (dist/renderer). Electron cannot run the
 * TypeScript sources through tsx, hence the bundle. Run: node --import tsx main/electron/build.ts
 */
import { cp } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as vite } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'dist');

/** Native or optional modules Electron loads from node_modules (keytar is unpacked from asar). */
const EXTERNAL = ['electron', 'keytar', 'bufferutil', 'utf-8-validate', 'pg-native'];

export async function buildDesktop(): Promise<void> {
  await esbuild({
    entryPoints: { main: join(root, 'main/electron/main.ts'), preload: join(root, 'main/electron/preload.ts') },
    outdir: join(out, 'electron'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: EXTERNAL,
    sourcemap: true,
    logLevel: 'warning',
  });
  await cp(join(root, 'main/electron/resources'), join(out, 'electron/icons'), { recursive: true });
  await vite({ configFile: join(root, 'renderer/vite.config.ts'), build: { outDir: join(out, 'renderer'), emptyOutDir: true } });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildDesktop();
}
