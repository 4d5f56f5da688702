#!/usr/bin/env node
// The `hotcache` command. The code lives in TypeScript, compiled to dist/ by `npm ci`.
import { main } from '../dist/tools/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
