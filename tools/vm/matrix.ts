// The kmod VM matrix: each Debian kernel (KERNEL_TARGETS) with MGLRU on and off. Builds the module and the
// test program per kernel, boots each combination once, and retries a boot once (logged) when the guest
// crashed or hung: Debian kernels occasionally oops under TCG (research/nfs-vms.md). When the plugin and
// the reader fixture are built, each combination boots once more into a Debian root where real criu dumps
// the reader with the plugin (criu-dump.ts).
import { rmSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_FILE, pageCounts } from '../../proto/image.js';
import { buildForKernel, type BuiltModule } from './build.js';
import { builtCaptureTool, summariseImage, type CapturedImage } from './capture-image.js';
import { criuDumpTools, runCriuDump, type CriuDumpRun } from './criu-dump.js';
import { ensureCriuGuestDisk } from './criu-guest.js';
import { makeDisk, readFromDisk } from './disk.js';
import { BUSYBOX, ensureVmHostTools } from './host.js';
import { makeInitramfs } from './initramfs.js';
import { ensureKernel, KERNEL_TARGETS, type KernelTree } from './kernels.js';
import { guestModules } from './modules.js';
import { bootVm } from './qemu.js';
import { bootWithOneRetry } from './retry.js';
import { parseGuestConsole, type GuestReport } from './result.js';
import { makeScratchDir } from './scratch.js';

export type MglruMode = 'y' | 'n';

export interface VmRun {
	kernel: string;
	release: string;
	mglru: MglruMode;
	report: GuestReport;
	/** Boots it took; more than 1 means a retry (the reasons are in `retries`). */
	attempts: number;
	retries: string[];
	/** Wall time of the last boot, from QEMU start to power-off. */
	bootMs: number;
	/** Console of the last boot, for failure messages. */
	console: string;
	/** The image hotcache-capture wrote, or null when it did not run or wrote none. */
	image: CapturedImage | null;
}

export interface VmMatrix {
	/** The hotcache-capture the guests ran (criu-plugin/out/), or null when it is not built. */
	captureTool: string | null;
	/** Time to make sure every kernel rootfs exists (first run: debootstrap). */
	prepareMs: number;
	builds: BuiltModule[];
	runs: VmRun[];
	criu: CriuDumps;
}

/** Real criu dumps in the guests, each kernel with MGLRU on and off (criu-dump.ts). */
export interface CriuDumps {
	/** Why none ran (plugin or reader not built), or null. */
	skipped: string | null;
	/** Time to make sure the guest's root disk image exists (first run: debootstrap and mke2fs). */
	prepareMs: number;
	runs: CriuDumpRun[];
}

const BOOT_TIMEOUT_MS = 180_000;
// The disk driver; for criu, the socket diag modules it queries for a tree's sockets and nf_tables, whose
// netlink interface its feature probe (kerndat) needs or it refuses to run.
const DRIVERS = ['virtio_pci', 'virtio_blk', 'unix_diag', 'netlink_diag', 'af_packet_diag', 'tcp_diag', 'udp_diag', 'nf_tables'];

/** Why a boot should be retried, or null when its result stands (pass or fail). */
function retryReason(report: GuestReport, timedOut: boolean): string | null {
	if (report.oops) return 'guest kernel oops';
	if (timedOut) return 'timed out';
	if (!report.result) return 'no result line';
	return null;
}

async function bootOnce(tree: KernelTree, initrd: string, scratch: string, mglru: MglruMode) {
	const disk = path.join(scratch, `disk-${tree.name}-${mglru}.img`);
	await makeDisk(disk);
	try {
		const boot = await bootVm({ kernel: tree.vmlinuz, initrd, drives: [{ file: disk }], append: `hotcache_mglru=${mglru}`, timeoutMs: BOOT_TIMEOUT_MS });
		const image = await readFromDisk(disk, `/cap/${IMAGE_FILE}`);
		return { ...boot, image: image ? summariseImage(image) : null };
	} finally {
		rmSync(disk, { force: true });
	}
}

async function runOne(tree: KernelTree, initrd: string, scratch: string, mglru: MglruMode, log: (line: string) => void): Promise<VmRun> {
	const { last, attempts, retries } = await bootWithOneRetry(
		`${tree.name} mglru=${mglru}`,
		async () => {
			const boot = await bootOnce(tree, initrd, scratch, mglru);
			return { ...boot, report: parseGuestConsole(boot.console) };
		},
		(boot) => retryReason(boot.report, boot.timedOut),
		log,
	);
	return {
		kernel: tree.name, release: tree.release, mglru, report: last.report, attempts, retries,
		bootMs: last.ms, console: last.console, image: last.image,
	};
}

export async function runKmodVmMatrix(log: (line: string) => void): Promise<VmMatrix> {
	ensureVmHostTools();
	const captureTool = builtCaptureTool();
	const criuTools = criuDumpTools();
	const prepStarted = Date.now();
	const trees = await Promise.all(KERNEL_TARGETS.map((t) => ensureKernel(t)));
	const prepareMs = Date.now() - prepStarted;
	const criuStarted = Date.now();
	const guestDisk = typeof criuTools === 'string' ? null : await ensureCriuGuestDisk();
	const criu: CriuDumps = { skipped: typeof criuTools === 'string' ? criuTools : null, prepareMs: Date.now() - criuStarted, runs: [] };
	const scratch = makeScratchDir();
	const builds: BuiltModule[] = [];
	const runs: VmRun[] = [];
	try {
		for (const tree of trees) {
			const built = await buildForKernel(tree, scratch);
			builds.push(built);
			const initrd = path.join(scratch, `initramfs-${tree.name}.cpio`);
			await makeInitramfs(initrd, {
				busybox: BUSYBOX,
				module: built.module,
				selftest: built.selftest,
				driverModules: guestModules(tree.modulesDir, DRIVERS),
				capture: captureTool,
			});
			for (const mglru of ['y', 'n'] as const) {
				const run = await runOne(tree, initrd, scratch, mglru, log);
				log(`kmod-vm: ${tree.name} (${tree.release}) mglru=${mglru}: ${run.bootMs} ms, ${JSON.stringify(run.report.result?.files ?? null)}, capture ${JSON.stringify(run.image)}; ${run.report.notes.join('; ')}${run.report.failed.length ? `, FAILED: ${run.report.failed.join('; ')}` : ''}`);
				runs.push(run);
			}
			if (typeof criuTools === 'string' || guestDisk === null) continue;
			for (const mglru of ['y', 'n'] as const) {
				const setup = { tree, initrd, guestDisk, tools: criuTools, scratch, timeoutMs: BOOT_TIMEOUT_MS };
				const run = await runCriuDump(setup, mglru, log);
				log(`kmod-vm: ${tree.name} mglru=${mglru} criu dump: ${run.bootMs} ms, ${JSON.stringify(run.outcome)}, image ${run.image ? JSON.stringify(run.image.files.map((f) => ({ path: f.path, ...pageCounts(f) }))) : run.imageError}`);
				criu.runs.push(run);
			}
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
	return { captureTool, prepareMs, builds, runs, criu };
}
