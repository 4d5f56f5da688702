// The detached prefetcher the action script starts at pre-restore:
//   node prefetcher.js RESTORE_DIR [--image-fd N]
// The image is read from fd N (opened and checked by the plugin, passed on by the action script) or
// from RESTORE_DIR/hotcache.img (the script's hard link or copy); the record and the status line go
// to RESTORE_DIR. Paths are resolved in the restored init's root, from the kernel (restored-root.ts).
// Never fails loudly: every outcome ends up in the record and the status line that post-resume prints.
import { closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.js';
import { readImage, type ImageSource } from './load-image.js';
import { native } from './native.js';
import { runPrefetch } from './prefetch.js';
import { formatProcessId, self } from './process-identity.js';
import { createExclusive, Recorder, writeStatus } from './record.js';
import { waitForRestoredRoot } from './restored-root.js';
import { pruneRestores, restoreFiles } from './state-dir.js';

/** The operator's copy is a bonus: when it cannot be opened, the state directory's record still is. */
function openRecorder(record: string, copy: string | null, statusFile: string, maxBytes: number): Recorder {
	if (copy) {
		try {
			return new Recorder([record, copy], statusFile, maxBytes);
		} catch (err) {
			process.stderr.write(`hotcache prefetcher: no copy of the record in ${copy}: ${(err as Error).message}\n`);
		}
	}
	return new Recorder([record], statusFile, maxBytes);
}

/**
 * One prefetcher per restore: prefetcher.pid names it ("PID START", O_EXCL). The action script writes
 * the same line for the process it started; one started otherwise writes its own. Returns who holds
 * it when that is another process.
 */
function claimPidFile(dir: string): string | null {
	const file = path.join(dir, restoreFiles.pid);
	const me = formatProcessId(self());
	try {
		createExclusive(file, me);
		return null;
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
	}
	const holder = readFileSync(file, 'utf8');
	return holder === me ? null : holder.trim();
}

function imageSource(dir: string, fd: string | undefined): ImageSource {
	if (fd === undefined) return { dir };
	if (!/^\d{1,9}$/.test(fd)) throw new Error(`--image-fd ${fd} is not an fd number`);
	return { fd: Number(fd) };
}

/** Another prefetcher holds this restore: its status is not ours to touch. */
class AlreadyStarted extends Error {
	override name = 'AlreadyStarted';
}

interface Started {
	config: Config;
	source: ImageSource;
	recorder: Recorder;
}

function start(dir: string, imageFd: string | undefined): Started {
	const config = loadConfig();
	const source = imageSource(dir, imageFd);
	const holder = claimPidFile(dir);
	if (holder) throw new AlreadyStarted(`another prefetcher (${holder}) was started for ${dir}`);
	return { config, source, recorder: openRecorder(path.join(dir, restoreFiles.record), config.record, path.join(dir, restoreFiles.status), config.recordMaxBytes) };
}

async function main(): Promise<void> {
	const { positionals, values } = parseArgs({ options: { 'image-fd': { type: 'string' } }, allowPositionals: true, strict: true });
	const dir = positionals[0];
	if (!dir) throw new Error('usage: prefetcher.js RESTORE_DIR [--image-fd N]');
	const controller = new AbortController();
	process.on('SIGTERM', () => controller.abort('SIGTERM'));
	let started: Started;
	try {
		started = start(dir, values['image-fd']);
	} catch (err) {
		if (!(err instanceof AlreadyStarted)) writeStatus(path.join(dir, restoreFiles.status), `hotcache: nothing prefetched: ${(err as Error).message}`);
		throw err;
	}
	const { config, source, recorder } = started;
	const refuse = (reason: string): void => {
		recorder.event({ kind: 'refused', reason });
		recorder.status(`hotcache: nothing prefetched: ${reason}`);
	};
	try {
		const loaded = await readImage(source);
		if ('fd' in source) closeSync(source.fd);
		if (!loaded.ok) return refuse(loaded.reason);
		const root = await waitForRestoredRoot(dir, controller.signal);
		if (!root.ok) return refuse(root.reason);
		try {
			recorder.event({ kind: 'root', pid: root.init.pid, path: root.path, ours: root.ours, waitedMs: root.waitedMs });
			const imageLabel = 'fd' in source ? `fd ${source.fd}` : path.join(dir, restoreFiles.image);
			stuck = (await runPrefetch({ image: loaded.image, imageLabel, root: root.path, rootFd: root.fd, config, recorder, signal: controller.signal })).stuck;
		} finally {
			closeSync(root.fd);
		}
	} catch (err) {
		recorder.status(`hotcache: prefetcher failed: ${(err as Error).message}`);
		throw err;
	} finally {
		recorder.close();
		try {
			pruneRestores(config.stateDir, dir);
		} catch (err) {
			// Housekeeping: this restore's outcome is already recorded.
			process.stderr.write(`hotcache prefetcher: pruning ${config.stateDir}: ${(err as Error).message}\n`);
		}
	}
}

/** Calls that never returned (a FUSE daemon that does not answer) would hold a normal exit forever. */
let stuck = 0;

main().then(() => {
	if (stuck > 0) native().exitNow(0);
}, (err: unknown) => {
	// stderr goes to prefetcher.log in the restore directory; the status line tells post-resume.
	process.stderr.write(`hotcache prefetcher: ${(err as Error).stack ?? String(err)}\n`);
	process.exitCode = 1;
});
