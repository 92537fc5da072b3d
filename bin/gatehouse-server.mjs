#!/usr/bin/env node
// Entry point for `gatehouse-server`: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/control/cli.ts');
process.exit(await main(process.argv.slice(2)));
