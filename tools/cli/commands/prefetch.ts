// `hotcache prefetch`: runs the restore side's prefetch engine by hand on an image directory.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, UsageError, type Command } from '../command.js';
import { ConfigError, loadConfig, MAX_WORKERS, parseBandwidth, threadPoolSize } from '../../../hooks/config.js';
import { readImage } from '../../../hooks/load-image.js';
import { native } from '../../../hooks/native.js';
import { runPrefetch, type PrefetchSummary } from '../../../hooks/prefetch.js';
import { jsonLine, printable } from '../../../hooks/printable.js';
import { describe, Recorder } from '../../../hooks/record.js';
import { IMAGE_FILE } from '../../../proto/image.js';

const BAR_WIDTH = 30;

/** A progress bar on stderr, redrawn at most every 100 ms. */
function progressBar(): (done: number, total: number) => void {
	let last = 0;
	return (done, total) => {
		const now = performance.now();
		if (now - last < 100 && done < total) return;
		last = now;
		const filled = total > 0 ? Math.round((done / total) * BAR_WIDTH) : BAR_WIDTH;
		process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} pages`);
		if (done >= total) process.stderr.write('\n');
	};
}

function jsonSummary(imageDir: string, root: string, s: PrefetchSummary): object {
	return {
		image: imageDir,
		root,
		pagesAsked: s.pagesAsked,
		alreadyResident: s.alreadyResident,
		fetched: s.fetched,
		missing: s.missing,
		bytesRead: s.bytesRead,
		seconds: s.seconds,
		throughput: s.throughput,
		filesPlanned: s.filesPlanned,
		filesSkipped: s.filesSkipped,
		skipped: s.skipped,
		stopped: s.stopped,
	};
}

/**
 * libuv sizes its thread pool once, when Node starts (the module loader already uses it): setting
 * UV_THREADPOOL_SIZE now would change nothing, so the command runs again in a Node started with it.
 * A signal sent to this process is passed on; the child's exit code or signal becomes ours.
 */
export async function rerunWithPool(size: number): Promise<number> {
	const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, UV_THREADPOOL_SIZE: String(size) } });
	const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
	process.on('SIGINT', forward).on('SIGTERM', forward);
	const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
	process.off('SIGINT', forward).off('SIGTERM', forward);
	if (signal) process.kill(process.pid, signal);
	return code ?? 1;
}

export const prefetchCommand: Command = {
	name: 'prefetch',
	summary: "prefetch an image directory's hot pages now (the engine the action script starts)",
	usage: 'hotcache prefetch [--json] IMAGE_DIR [--root DIR] [--workers N] [--record FILE] [--no-activate] [--bandwidth MBPS]',
	async run(args) {
		const { values, positionals } = parseArgs({
			args,
			allowPositionals: true,
			strict: true,
			options: {
				json: { type: 'boolean' },
				root: { type: 'string' },
				workers: { type: 'string' },
				record: { type: 'string' },
				'no-activate': { type: 'boolean' },
				bandwidth: { type: 'string' },
			},
		});
		if (positionals.length !== 1) throw new UsageError('expected exactly one IMAGE_DIR');
		const imageDir = positionals[0]!;
		let config;
		try {
			config = loadConfig();
			if (values.workers !== undefined) {
				const n = Number(values.workers);
				if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new UsageError(`--workers must be an integer from 1 to ${MAX_WORKERS}`);
				config.workers = n;
			}
			if (values.bandwidth !== undefined) config.bandwidth = parseBandwidth(values.bandwidth, '--bandwidth');
		} catch (err) {
			if (err instanceof ConfigError) throw new UsageError(err.message);
			throw err;
		}
		if (values['no-activate']) config.activate = false;
		if (process.env.UV_THREADPOOL_SIZE === undefined) return rerunWithPool(threadPoolSize(config.workers));

		const imageFile = path.join(imageDir, IMAGE_FILE);
		const loaded = await readImage({ dir: imageDir });
		if (!loaded.ok) throw new CliError(loaded.kind === 'unreadable' ? 'no-image' : 'image-refused', loaded.reason);
		const root = values.root ?? '/';
		if (!values.root && loaded.image.capture.ownRoot && !values.json) {
			process.stderr.write('hotcache prefetch: the capture had its own root; resolving paths from / (pass --root)\n');
		}
		const recordFile = values.record ?? config.record;
		const recorder = new Recorder(recordFile ? [recordFile] : [], null, config.recordMaxBytes);
		const controller = new AbortController();
		const stop = (signal: NodeJS.Signals) => controller.abort(signal);
		process.once('SIGINT', stop).once('SIGTERM', stop);
		let code = 0;
		let stuck = 0;
		try {
			const summary = await runPrefetch({
				image: loaded.image,
				imageLabel: imageFile,
				root,
				config,
				recorder,
				signal: controller.signal,
				...(process.stderr.isTTY && !values.json ? { onProgress: progressBar() } : {}),
			});
			if (values.json) process.stdout.write(jsonLine(jsonSummary(imageDir, root, summary)));
			else for (const skip of summary.skipped) process.stderr.write(`hotcache prefetch: skipped ${printable(skip.path)}: ${printable(skip.reason)}\n`);
			if (!values.json) process.stdout.write(describe(summary, summary.filesPlanned, summary.filesSkipped, summary.stopped ? `stopped (${summary.stopped})` : 'done') + '\n');
			code = summary.stopped ? 1 : 0;
			stuck = summary.stuck;
		} finally {
			recorder.close();
			process.off('SIGINT', stop).off('SIGTERM', stop);
		}
		// Calls that never returned (a FUSE daemon that does not answer) would hold a normal exit forever.
		if (stuck > 0) await new Promise<void>((resolve) => process.stdout.write('', () => resolve())).then(() => native().exitNow(code));
		return code;
	},
};
