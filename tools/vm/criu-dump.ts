// Real criu in the emulated VM: the kernel under test boots the busybox initramfs, which loads hotcache.ko
// and switches to the cached Debian trixie root (criu-guest.ts, /dev/vda, read-only). A fresh job disk
// (/dev/vdb) carries the plugin alone in lib/ (criu loads every .so of --libdir), the reader fixture and
// guest-criu.sh; the guest leaves criu's image directory on it, which is read back here without mounting
// and decoded with proto/image.ts.
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, IMAGE_FILE, type HotcacheImage } from '../../proto/image.js';
import { builtPaths, projectRoot } from '../project.js';
import { makeDisk, readFromDisk } from './disk.js';
import type { KernelTree } from './kernels.js';
import { bootVm } from './qemu.js';
import { jsonAfter, lruGenSetting } from './result.js';
import { bootWithOneRetry, consoleShowsOops } from './retry.js';

export interface CriuDumpTools {
	plugin: string;
	reader: string;
}

/** The built plugin and reader fixture, or why the criu guests cannot run. */
export function criuDumpTools(): CriuDumpTools | string {
	const plugin = builtPaths().plugin;
	if (!plugin) return 'criu-plugin/out/hotcache.so is not built (make -C criu-plugin)';
	const reader = path.join(projectRoot, 'test/fixtures/out/reader');
	try {
		accessSync(reader, constants.X_OK);
	} catch {
		return 'test/fixtures/out/reader is not built (make -C test/fixtures)';
	}
	return { plugin, reader };
}

/** What guest-criu.sh printed: criu's exit status, the reader's pid, how long (0.1 s) it waited for it. */
export interface CriuGuestOutcome {
	dump: number;
	pid: number;
	waited: number;
}

export interface CriuDumpRun {
	kernel: string;
	release: string;
	mglru: 'y' | 'n';
	attempts: number;
	retries: string[];
	bootMs: number;
	console: string;
	/** Null when the guest never got as far as running criu (see `console`). */
	outcome: CriuGuestOutcome | null;
	/** /sys/kernel/mm/lru_gen/enabled as the guest set it. */
	lruGen: string | null;
	/** criu's -v4 log and its stdout/stderr, as left on the job disk. */
	dumpLog: string | null;
	criuOutput: string | null;
	/** hotcache.img decoded, or why it could not be (absent, or the codec's error). */
	image: HotcacheImage | null;
	imageError: string | null;
}

export interface CriuDumpSetup {
	tree: KernelTree;
	initrd: string;
	guestDisk: string;
	tools: CriuDumpTools;
	scratch: string;
	timeoutMs: number;
}

async function makeJobDisk(setup: CriuDumpSetup, disk: string): Promise<void> {
	const dir = `${disk}.d`;
	mkdirSync(path.join(dir, 'lib'), { recursive: true });
	try {
		copyFileSync(setup.tools.plugin, path.join(dir, 'lib/hotcache.so'));
		copyFileSync(setup.tools.reader, path.join(dir, 'reader'));
		copyFileSync(path.join(projectRoot, 'tools/vm/guest-criu.sh'), path.join(dir, 'guest-criu.sh'));
		chmodSync(path.join(dir, 'reader'), 0o755);
		await makeDisk(disk, { from: dir, size: '64M' });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

function decode(buf: Buffer | null): { image: HotcacheImage | null; imageError: string | null } {
	if (!buf) return { image: null, imageError: `no img/${IMAGE_FILE} on the job disk` };
	try {
		return { image: decodeImage(buf), imageError: null };
	} catch (err) {
		return { image: null, imageError: `decodeImage: ${(err as Error).message}` };
	}
}

async function bootOnce(setup: CriuDumpSetup, mglru: 'y' | 'n') {
	const disk = path.join(setup.scratch, `job-${setup.tree.name}-${mglru}.img`);
	await makeJobDisk(setup, disk);
	try {
		const boot = await bootVm({
			kernel: setup.tree.vmlinuz,
			initrd: setup.initrd,
			drives: [{ file: setup.guestDisk, readOnly: true }, { file: disk }],
			append: `hotcache_mglru=${mglru} hotcache_guest=criu`,
			timeoutMs: setup.timeoutMs,
		});
		const text = async (inside: string) => (await readFromDisk(disk, inside))?.toString('utf8') ?? null;
		return {
			...boot,
			outcome: jsonAfter<CriuGuestOutcome>(boot.console, 'HOTCACHE-CRIU'),
			dumpLog: await text('/img/dump.log'),
			criuOutput: await text('/criu.out'),
			...decode(await readFromDisk(disk, `/img/${IMAGE_FILE}`)),
		};
	} finally {
		rmSync(disk, { force: true });
	}
}

/** Boots the tree's kernel into the criu guest once (retried once if it crashed or hung). */
export async function runCriuDump(setup: CriuDumpSetup, mglru: 'y' | 'n', log: (line: string) => void): Promise<CriuDumpRun> {
	const { last, attempts, retries } = await bootWithOneRetry(
		`${setup.tree.name} mglru=${mglru} criu`,
		() => bootOnce(setup, mglru),
		(boot) => (consoleShowsOops(boot.console) ? 'guest kernel oops' : boot.timedOut ? 'timed out' : boot.outcome ? null : 'no HOTCACHE-CRIU line'),
		log,
	);
	return {
		kernel: setup.tree.name, release: setup.tree.release, mglru, attempts, retries, bootMs: last.ms, console: last.console,
		outcome: last.outcome, lruGen: lruGenSetting(last.console),
		dumpLog: last.dumpLog, criuOutput: last.criuOutput, image: last.image, imageError: last.imageError,
	};
}
