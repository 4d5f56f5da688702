// `hotcache receive`: the destination agent of `hotcache migrate`, which starts it through ssh or an
// exec: command and speaks to it on its stdin and stdout (tools/migrate/agent.ts).
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { ConfigError, loadConfig, threadPoolSize } from '../../../hooks/config.js';
import { receive } from '../../migrate/agent.js';
import { CliError } from '../command.js';
import { rerunWithPool } from './prefetch.js';

const EXIT_GRACE_MS = 5000;

export const receiveCommand: Command = {
	name: 'receive',
	summary: 'the destination side of `hotcache migrate` (its protocol on stdin and stdout)',
	usage: 'hotcache receive',
	async run(args) {
		parseArgs({ args, options: {}, strict: true });
		let workers: number;
		try {
			workers = loadConfig().workers;
		} catch (err) {
			if (err instanceof ConfigError) throw new CliError('config', err.message);
			throw err;
		}
		// The prefetch runs here: the thread pool must be sized before Node starts (see `prefetch`).
		if (process.env.UV_THREADPOOL_SIZE === undefined) return rerunWithPool(threadPoolSize(workers));
		const code = await receive(process.stdin, process.stdout);
		// The migration is over: whatever might still hold the event loop (a read stuck in the kernel
		// on the thread pool) must not keep the agent running on this host.
		setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
		return code;
	},
};
