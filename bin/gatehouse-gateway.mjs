#!/usr/bin/env node
// Entry point for `gatehouse-gateway`: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/gateway/cli.ts');
const code = await main(process.argv.slice(2));
// Exit once what was written to stdout/stderr has been flushed (a pipe can lag behind), even
// if something left open would keep the event loop alive.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
process.exit(code);
