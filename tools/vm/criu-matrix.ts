// The criu rows of the compatibility table, run for real: each pairs a Debian kernel with a Debian
// release's own criu and Node.js and boots once, which dumps with every backend under both LRUs and
// restores three ways (guest-criu.sh).
import { rmSync } from 'node:fs';
import { makeBootKit, type BootKit } from './boot-kit.js';
import { criuJobTools, runCriuJob, type CriuJobRun } from './criu-job.js';
import { BOOKWORM_GUEST, ensureCriuGuestDisk, TRIXIE_GUEST, type CriuGuest } from './criu-guest.js';
import { ensureVmHostTools } from './host.js';
import { ensureKernel, KERNEL_TARGETS, type KernelTarget } from './kernels.js';
import { makeScratchDir } from './scratch.js';

interface CriuRow {
	kernel: KernelTarget;
	guest: CriuGuest;
}

const [BOOKWORM_KERNEL, TRIXIE_KERNEL] = KERNEL_TARGETS as [KernelTarget, KernelTarget];

/** Each release's criu on its own kernel. */
export const CRIU_ROWS: readonly CriuRow[] = [
	{ kernel: BOOKWORM_KERNEL, guest: BOOKWORM_GUEST },
	{ kernel: TRIXIE_KERNEL, guest: TRIXIE_GUEST },
];

export interface CriuMatrix {
	/** Time to make sure the kernels' and guests' root file systems and disk images exist. */
	prepareMs: number;
	/** Time to build the module and the initramfs, per kernel. */
	kitMs: Record<string, number>;
	runs: CriuJobRun[];
}

// A boot took up to 137 s on a busy host; three restores may each wait 120 s for a verdict.
const BOOT_TIMEOUT_MS = 480_000;

/** Runs every row; throws when the plugin, the reader or the payload is not built. */
export async function runCriuVmMatrix(log: (line: string) => void): Promise<CriuMatrix> {
	ensureVmHostTools();
	const tools = criuJobTools();
	if (typeof tools === 'string') throw new Error(tools);
	const started = Date.now();
	const kernels = [...new Set(CRIU_ROWS.map((r) => r.kernel))];
	const guests = [...new Set(CRIU_ROWS.map((r) => r.guest))];
	const [trees, disks] = await Promise.all([
		Promise.all(kernels.map((k) => ensureKernel(k))),
		Promise.all(guests.map((g) => ensureCriuGuestDisk(g))),
	]);
	const prepareMs = Date.now() - started;
	const scratch = makeScratchDir();
	const kitMs: Record<string, number> = {};
	const runs: CriuJobRun[] = [];
	try {
		const kits = new Map<KernelTarget, BootKit>();
		for (const [i, kernel] of kernels.entries()) {
			const t0 = Date.now();
			kits.set(kernel, await makeBootKit(trees[i]!, scratch, null));
			kitMs[kernel.name] = Date.now() - t0;
		}
		for (const row of CRIU_ROWS) {
			const setup = { kit: kits.get(row.kernel)!, guest: row.guest, guestDisk: disks[guests.indexOf(row.guest)]!, tools, scratch, timeoutMs: BOOT_TIMEOUT_MS };
			const run = await runCriuJob(setup, log);
			log(`criu-vm: ${run.kernel} ${run.guest} criu ${run.criuVersion} node ${run.nodeVersion} lru_gen ${run.lruGen}: ${run.bootMs} ms, ${run.dumps.length} dumps, ${run.restores.length} restores${run.done ? '' : ', UNFINISHED'}`);
			runs.push(run);
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
	return { prepareMs, kitMs, runs };
}
