// The kmod VM matrix: each Debian kernel (KERNEL_TARGETS) with MGLRU on and off. Builds the module and the
// test program per kernel, boots each combination once, and retries a boot once (logged) when the guest
// crashed or hung: Debian kernels occasionally oops under TCG (research/nfs-vms.md). Real criu in these
// kernels is criu-matrix.ts's.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_FILE } from '../../proto/image.js';
import { makeBootKit } from './boot-kit.js';
import type { BuiltModule } from './build.js';
import { builtCaptureTool, summariseImage, type CapturedImage } from './capture-image.js';
import { makeDisk, readFromDisk } from './disk.js';
import { ensureVmHostTools } from './host.js';
import { ensureKernel, KERNEL_TARGETS, type KernelTree } from './kernels.js';
import { bootVm } from './qemu.js';
import { bootWithOneRetry } from './retry.js';
import { parseGuestConsole, type GuestReport } from './result.js';
import { makeScratchDir } from './scratch.js';

type MglruMode = 'y' | 'n';

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
	/** The cgroup scope's images, by backend (the module's listing, the walk), or null. */
	scopeImages: Record<ScopeBackend, CapturedImage | null>;
}

const SCOPE_BACKENDS = ['kmod', 'kpageflags'] as const;
export type ScopeBackend = (typeof SCOPE_BACKENDS)[number];

export interface VmMatrix {
	/** The hotcache-capture the guests ran (criu-plugin/out/), or null when it is not built. */
	captureTool: string | null;
	/** Time to make sure every kernel rootfs exists (first run: debootstrap). */
	prepareMs: number;
	builds: BuiltModule[];
	runs: VmRun[];
}

const BOOT_TIMEOUT_MS = 180_000;

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
		const scopeImages = {} as Record<ScopeBackend, CapturedImage | null>;
		for (const backend of SCOPE_BACKENDS) {
			const buf = await readFromDisk(disk, `/cap-${backend}/${IMAGE_FILE}`);
			scopeImages[backend] = buf ? summariseImage(buf) : null;
		}
		return { ...boot, image: image ? summariseImage(image) : null, scopeImages };
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
		bootMs: last.ms, console: last.console, image: last.image, scopeImages: last.scopeImages,
	};
}

export async function runKmodVmMatrix(log: (line: string) => void): Promise<VmMatrix> {
	ensureVmHostTools();
	const captureTool = builtCaptureTool();
	const prepStarted = Date.now();
	const trees = await Promise.all(KERNEL_TARGETS.map((t) => ensureKernel(t)));
	const prepareMs = Date.now() - prepStarted;
	const scratch = makeScratchDir();
	const builds: BuiltModule[] = [];
	const runs: VmRun[] = [];
	try {
		for (const tree of trees) {
			const kit = await makeBootKit(tree, scratch, captureTool);
			builds.push(kit.built);
			for (const mglru of ['y', 'n'] as const) {
				const run = await runOne(tree, kit.initrd, scratch, mglru, log);
				log(`kmod-vm: ${tree.name} (${tree.release}) mglru=${mglru}: ${run.bootMs} ms, ${JSON.stringify(run.report.result?.files ?? null)}, memcg ${JSON.stringify(run.report.result?.memcg ?? null)}, capture ${JSON.stringify(run.image)}, scope ${JSON.stringify(run.scopeImages)}; ${run.report.notes.join('; ')}${run.report.failed.length ? `, FAILED: ${run.report.failed.join('; ')}` : ''}`);
				runs.push(run);
			}
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
	return { captureTool, prepareMs, builds, runs };
}
