// The detached prefetcher the action script starts at pre-restore:
//   node prefetcher.js RESTORE_DIR [--root DIR]
// RESTORE_DIR holds the copied hotcache.img; the record and the status line go there too. Without
// --root, a capture whose tree had its own root waits for the action script to write the restored
// init pid (post-setup-namespaces or later) and resolves paths under /proc/<pid>/root.
// Never fails loudly: every outcome ends up in the record and the status line that post-resume prints.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { readImage } from './load-image.js';
import { runPrefetch } from './prefetch.js';
import { createExclusive, Recorder, writeStatus } from './record.js';
import { pruneRestores, restoreFiles } from './state-dir.js';

/** How long to wait for the restored init pid: a restore that takes longer is not worth prefetching for. */
const INIT_PID_WAIT_MS = 60_000;
const POLL_MS = 20;

async function waitForInitRoot(dir: string, signal: AbortSignal): Promise<string | null> {
	const file = path.join(dir, restoreFiles.initPid);
	const deadline = Date.now() + INIT_PID_WAIT_MS;
	while (Date.now() < deadline && !signal.aborted) {
		if (existsSync(file)) {
			const pid = Number(readFileSync(file, 'utf8').trim());
			if (Number.isInteger(pid) && pid > 0) return `/proc/${pid}/root`;
		}
		await new Promise((resolve) => setTimeout(resolve, POLL_MS));
	}
	return null;
}

/** The operator's copy is a bonus: when it cannot be opened, the state directory's record still is. */
function openRecorder(record: string, copy: string | null, statusFile: string): Recorder {
	if (copy) {
		try {
			return new Recorder([record, copy], statusFile);
		} catch (err) {
			process.stderr.write(`hotcache prefetcher: no copy of the record in ${copy}: ${(err as Error).message}\n`);
		}
	}
	return new Recorder([record], statusFile);
}

async function main(): Promise<void> {
	const { positionals, values } = parseArgs({ options: { root: { type: 'string' } }, allowPositionals: true, strict: true });
	const dir = positionals[0];
	if (!dir) throw new Error('usage: prefetcher.js RESTORE_DIR [--root DIR]');
	const statusFile = path.join(dir, restoreFiles.status);
	let config;
	try {
		config = loadConfig();
	} catch (err) {
		writeStatus(statusFile, `hotcache: nothing prefetched: ${(err as Error).message}`);
		throw err;
	}
	const controller = new AbortController();
	process.on('SIGTERM', () => controller.abort('SIGTERM'));
	// Who runs for this restore, for the action script's claim and for pruning. O_EXCL: one per restore.
	try {
		createExclusive(path.join(dir, restoreFiles.pid), `${process.pid}\n`);
	} catch (err) {
		writeStatus(statusFile, `hotcache: nothing prefetched: ${(err as Error).message}`);
		throw err;
	}

	let recorder: Recorder;
	try {
		recorder = openRecorder(path.join(dir, restoreFiles.record), config.record, statusFile);
	} catch (err) {
		writeStatus(statusFile, `hotcache: nothing prefetched: ${(err as Error).message}`);
		throw err;
	}
	try {
		const loaded = await readImage({ dir });
		if (!loaded.ok) {
			recorder.event({ kind: 'refused', reason: loaded.reason });
			recorder.status(`hotcache: nothing prefetched: ${loaded.reason}`);
			return;
		}
		let root = values.root ?? (loaded.image.capture.ownRoot ? null : '/');
		root ??= await waitForInitRoot(dir, controller.signal);
		if (root === null) {
			const reason = 'the capture had its own root, but neither --root nor the restored init pid became known';
			recorder.event({ kind: 'refused', reason });
			recorder.status(`hotcache: nothing prefetched: ${reason}`);
			return;
		}
		await runPrefetch({ image: loaded.image, imageLabel: path.join(dir, restoreFiles.image), root, config, recorder, signal: controller.signal });
	} catch (err) {
		recorder.status(`hotcache: prefetcher failed: ${(err as Error).message}`);
		throw err;
	} finally {
		recorder.close();
		pruneRestores(config.stateDir, dir);
	}
}

main().catch((err: unknown) => {
	// stderr goes to prefetcher.log in the restore directory; the status line tells post-resume.
	process.stderr.write(`hotcache prefetcher: ${(err as Error).stack ?? String(err)}\n`);
	process.exitCode = 1;
});
