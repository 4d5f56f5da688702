// Real criu in the emulated VM: the kernel under test boots the busybox initramfs, which loads hotcache.ko
// and switches to a cached Debian root with that release's criu and Node.js (criu-guest.ts, /dev/vda,
// read-only). A fresh job disk (/dev/vdb) carries the plugin alone in lib/, the restore side of the
// checkout (restore-payload.ts), the reader fixture and guest-criu.sh, which dumps and restores the
// reader in several steps in one boot. The guest leaves its images, logs and state directories in out/
// on that disk; they are copied back here without mounting anything.
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { builtPaths, projectRoot } from '../project.js';
import type { BootKit } from './boot-kit.js';
import type { CriuGuest } from './criu-guest.js';
import { readCriuSteps, type CriuSteps } from './criu-steps.js';
import { extractDir, makeDisk } from './disk.js';
import { bootVm } from './qemu.js';
import { restorePayloadMissing, stageRestorePayload } from './restore-payload.js';
import { lruGenSetting } from './result.js';
import { bootWithOneRetry, consoleShowsOops } from './retry.js';

interface CriuJobTools {
	plugin: string;
	reader: string;
}

/** The built plugin and reader fixture, or why the criu guests cannot run. */
export function criuJobTools(): CriuJobTools | string {
	const plugin = builtPaths().plugin;
	if (!plugin) return 'criu-plugin/out/hotcache.so is not built (make -C criu-plugin)';
	const reader = path.join(projectRoot, 'test/fixtures/out/reader');
	try {
		accessSync(reader, constants.X_OK);
	} catch {
		return 'test/fixtures/out/reader is not built (make -C test/fixtures)';
	}
	return restorePayloadMissing() ?? { plugin, reader };
}

export interface CriuJobRun extends CriuSteps {
	kernel: string;
	release: string;
	guest: CriuGuest['suite'];
	attempts: number;
	retries: string[];
	bootMs: number;
	console: string;
	/** /sys/kernel/mm/lru_gen/enabled as the kernel booted (Debian's default). */
	lruGen: string | null;
}

interface CriuJobSetup {
	kit: BootKit;
	guest: CriuGuest;
	guestDisk: string;
	tools: CriuJobTools;
	scratch: string;
	timeoutMs: number;
}

async function makeJobDisk(setup: CriuJobSetup, disk: string): Promise<void> {
	const dir = `${disk}.d`;
	mkdirSync(path.join(dir, 'lib'), { recursive: true });
	try {
		copyFileSync(setup.tools.plugin, path.join(dir, 'lib/hotcache.so'));
		copyFileSync(setup.tools.reader, path.join(dir, 'reader'));
		copyFileSync(path.join(projectRoot, 'tools/vm/guest-criu.sh'), path.join(dir, 'guest-criu.sh'));
		chmodSync(path.join(dir, 'reader'), 0o755);
		stageRestorePayload(path.join(dir, 'hotcache'));
		await makeDisk(disk, { from: dir, size: '128M' });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

async function bootOnce(setup: CriuJobSetup): Promise<{ console: string; ms: number; timedOut: boolean; steps: CriuSteps }> {
	const name = `job-${setup.kit.tree.name}-${setup.guest.suite}`;
	const disk = path.join(setup.scratch, `${name}.img`);
	const back = path.join(setup.scratch, `${name}.out`);
	await makeJobDisk(setup, disk);
	try {
		const boot = await bootVm({
			kernel: setup.kit.tree.vmlinuz,
			initrd: setup.kit.initrd,
			drives: [{ file: setup.guestDisk, readOnly: true }, { file: disk }],
			append: 'hotcache_guest=criu',
			timeoutMs: setup.timeoutMs,
		});
		const out = (await extractDir(disk, '/out', back)) ? path.join(back, 'out') : null;
		return { ...boot, steps: readCriuSteps(boot.console, out) };
	} finally {
		rmSync(disk, { force: true });
		rmSync(back, { recursive: true, force: true });
	}
}

function retryReason(boot: { console: string; timedOut: boolean; steps: CriuSteps }): string | null {
	if (consoleShowsOops(boot.console)) return 'guest kernel oops';
	if (boot.timedOut) return 'timed out';
	return boot.steps.done ? null : 'the guest did not finish its steps';
}

/** Boots the kit's kernel into the criu guest once (retried once if it crashed, hung or stopped early). */
export async function runCriuJob(setup: CriuJobSetup, log: (line: string) => void): Promise<CriuJobRun> {
	const { last, attempts, retries } = await bootWithOneRetry(
		`${setup.kit.tree.name} ${setup.guest.suite} criu`,
		() => bootOnce(setup),
		retryReason,
		log,
	);
	return {
		kernel: setup.kit.tree.name, release: setup.kit.tree.release, guest: setup.guest.suite, attempts, retries,
		bootMs: last.ms, console: last.console, lruGen: lruGenSetting(last.console), ...last.steps,
	};
}
