#!/usr/bin/env node
// The `hotcache` command. The code lives in TypeScript, compiled to dist/ by `npm ci`.
import { main } from '../dist/tools/cli/main.js';

// `hotcache scan ... | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (err) => {
	if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
	throw err;
});

process.exitCode = await main(process.argv.slice(2));
