#!/usr/bin/env node
// Entry point for `gatehouse`: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
