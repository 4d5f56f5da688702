// The kernel module in emulated VMs: Debian's 6.1 and 6.12 cloud kernels, MGLRU on and off. In each, a file
// read three times must scan HOT, one read once WARM, one never read absent, and the ioctl's error paths
// and resumable scans must hold (kmod/selftest/hotcache_test.c, which prints its own per-check lines).
// When criu-plugin/out/hotcache-capture is built, the same boots also run it against a live reader. Then
// each kernel and mode boots once more into a Debian trixie root where real criu 4.1.1 dumps the reader
// fixture with the plugin and the module loaded (tools/vm/criu-dump.ts).
// First run on a fresh machine: builds three Debian root file systems (two kernels with headers and
// compiler, criu's), about two and a half minutes; afterwards about a minute.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { vmSkipReason } from '../tools/vm/host.js';
import { builtCaptureTool } from '../tools/vm/capture-image.js';
import { runKmodVmMatrix, type VmMatrix, type VmRun } from '../tools/vm/matrix.js';
import { criuDumpTools, type CriuDumpRun } from '../tools/vm/criu-dump.js';
import { JOB_MOUNT } from '../tools/vm/criu-guest.js';
import type { ImageFile } from '../proto/image.js';
import { pageCounts } from '../proto/image.js';
import { testUnless } from './support.js';
import { buildFixtures, PAGE } from './capture-support.js';

const HOTCACHE_LRU_CLASSIC = 1;
const HOTCACHE_LRU_MGLRU = 2;
const FILE_PAGES = 1024;

function describe(run: Pick<VmRun, 'kernel' | 'mglru' | 'attempts' | 'retries'>, what = ''): string {
	return `${run.kernel} mglru=${run.mglru}${what} (attempts ${run.attempts}${run.retries.length ? `, retried: ${run.retries.join('; ')}` : ''})`;
}

/** The guest applied the requested MGLRU mode (lru_gen/enabled as it read it back). */
function checkLruGen(what: string, mglru: 'y' | 'n', setting: string | null): void {
	if (mglru === 'y') assert.ok(setting !== null && /^0x0*[1-9a-f]/.test(setting), `${what}: lru_gen/enabled is ${setting}`);
	else assert.is(setting, '0x0000', `${what}: lru_gen/enabled`);
}

function checkRun(run: VmRun): void {
	const what = describe(run);
	const { report } = run;
	const result = report.result;
	assert.ok(result, `${what}: no result from the guest; console tail:\n${run.console.slice(-4000)}`);
	assert.equal(report.failed, [], `${what}: failed checks in the guest`);
	assert.ok(result.ok && result.failures === 0, `${what}: guest verdict not ok`);
	// The guest applied the requested MGLRU mode, and the module saw the same.
	checkLruGen(what, run.mglru, report.mglru);
	assert.is(result.lru, run.mglru === 'y' ? HOTCACHE_LRU_MGLRU : HOTCACHE_LRU_CLASSIC, `${what}: module reported lru ${result.lru}`);
	const { A, B, C } = result.files;
	assert.ok(A.hot >= FILE_PAGES * 0.9, `${what}: A (read 3x) hot ${A.hot} of ${FILE_PAGES}`);
	assert.ok(B.warm >= FILE_PAGES * 0.9 && B.hot === 0, `${what}: B (read once) warm ${B.warm}, hot ${B.hot}`);
	assert.is(C.hot + C.warm + C.resident, 0, `${what}: C (never read) has resident pages`);
}

// Both tests read the same boots: the matrix runs once.
let matrix: Promise<VmMatrix> | null = null;
const log = (line: string) => process.stderr.write(`${line}\n`);
function vmMatrix(): Promise<VmMatrix> {
	const started = Date.now();
	matrix ??= runKmodVmMatrix(log).then((m) => {
		log(`kmod-vm: prepare ${m.prepareMs} ms; criu guest disk ${m.criu.prepareMs} ms; builds ${m.builds.map((b) => `${b.kernel} ${b.buildMs} ms`).join(', ')}; total ${Date.now() - started} ms`);
		return m;
	});
	return matrix;
}

const skip = vmSkipReason();
// The reader fixture the criu guests dump (make is quick when it is up to date).
if (skip === null) buildFixtures();

testUnless(skip, test, 'kmod in VMs: classes on Debian 6.1 and 6.12, MGLRU on and off', async () => {
	const m = await vmMatrix();
	assert.is(m.runs.length, 4, 'two kernels times two MGLRU modes');
	for (const run of m.runs) checkRun(run);
});

// The plugin's capture code with the kmod backend, end to end: a live reader holds R (read 3x) and W
// (read once) open. The image it wrote on the guest's disk is read back and decoded with proto/image.ts:
// R's pages must be hot, W's warm, both with the reader's fds, captured by kmod in the guest's LRU mode.
const captureSkip = skip ?? (builtCaptureTool() === null ? 'criu-plugin/out/hotcache-capture is not built (make -C criu-plugin)' : null);
testUnless(captureSkip, test, 'kmod in VMs: hotcache-capture --backend kmod on a live reader', async () => {
	const m = await vmMatrix();
	for (const run of m.runs) {
		const what = describe(run);
		const logText = run.report.captureLog.join('\n');
		assert.ok(run.report.capture?.ok, `${what}: hotcache-capture or its --check failed: ${JSON.stringify(run.report.capture)}\n${logText}`);
		const image = run.image;
		assert.ok(image, `${what}: no hotcache.img on the guest disk\n${logText}`);
		assert.is(image.backend, 'kmod', `${what}: backend`);
		assert.is(image.lru, run.mglru === 'y' ? 'mglru' : 'classic', `${what}: lru`);
		const file = (name: string) => {
			const f = image.files.find((x) => x.path === name);
			assert.ok(f, `${what}: ${name} missing from the image: ${JSON.stringify(image.files)}`);
			assert.ok(f.fds >= 1, `${what}: ${name} has no fd recorded`);
			return f;
		};
		const r = file('/mnt/R');
		const w = file('/mnt/W');
		assert.ok(r.hot >= FILE_PAGES * 0.9, `${what}: R (read 3x) hot ${r.hot}`);
		assert.ok(w.warm >= FILE_PAGES * 0.9 && w.hot === 0, `${what}: W (read once) warm ${w.warm}, hot ${w.hot}`);
	}
});

// Real criu 4.1.1 in the guest dumps the reader fixture with the plugin (alone in --libdir) while
// hotcache.ko is loaded: the plugin must pick the kmod backend on its own, log its summary at
// CHECKPOINT_DEVICES, and hotcache.img (decoded on the host with proto/image.ts) must show A (read 3x)
// hot, B (read once) warm, C (open, never read) not resident, D (only mapped) cached and at least warm,
// and the reader's fd offsets.
function criuLogExcerpt(run: CriuDumpRun): string {
	const log = run.dumpLog ?? '(no dump.log on the job disk)';
	const lines = log.split('\n').filter((l) => /hotcache|Error/.test(l));
	return `criu output:\n${run.criuOutput ?? '(none)'}\ndump.log (hotcache and Error lines):\n${lines.join('\n')}\ndump.log tail:\n${log.slice(-2000)}`;
}

function checkCriuDump(run: CriuDumpRun): void {
	const what = describe(run, ' criu dump');
	const outcome = run.outcome;
	assert.ok(outcome, `${what}: the guest never ran criu; console tail:\n${run.console.slice(-4000)}`);
	assert.ok(outcome.waited < 600, `${what}: the reader never started counting (guest-criu.sh waited 60 s)`);
	assert.is(outcome.dump, 0, `${what}: criu dump failed\n${criuLogExcerpt(run)}`);
	checkLruGen(what, run.mglru, run.lruGen);
	const summary = /hotcache: captured (\d+) files, (\d+) pages, (\d+) hot, (\d+) warm, backend (\w+), (\d+) ms, at (\S+)/.exec(run.dumpLog ?? '');
	assert.ok(summary, `${what}: no summary line in dump.log\n${criuLogExcerpt(run)}`);
	assert.is(summary[5], 'kmod', `${what}: backend in the summary`);
	assert.is(summary[7], 'CHECKPOINT_DEVICES', `${what}: criu 4.1 captures at CHECKPOINT_DEVICES`);
	const image = run.image;
	assert.ok(image, `${what}: ${run.imageError}\n${criuLogExcerpt(run)}`);
	assert.is(Number(summary[1]), image.files.length, `${what}: files in the summary and the image`);
	assert.is(image.capture.backend, 'kmod', `${what}: backend`);
	assert.is(image.capture.lru, run.mglru === 'y' ? 'mglru' : 'classic', `${what}: lru`);
	assert.is(image.capture.partial, false, `${what}: partial capture: ${image.capture.partialReason}`);
	assert.is(image.capture.rootPid, outcome.pid, `${what}: root pid`);
	const file = (name: string): ImageFile & { resident: number; hot: number; warm: number } => {
		const f = image.files.find((x) => x.path === `/${JOB_MOUNT}/${name}`);
		assert.ok(f, `${what}: ${name} missing from the image: ${image.files.map((x) => x.path).join(', ')}`);
		return { ...f, ...pageCounts(f) };
	};
	const [a, b, c, d] = ['A', 'B', 'C', 'D'].map(file) as [ReturnType<typeof file>, ReturnType<typeof file>, ReturnType<typeof file>, ReturnType<typeof file>];
	const counts = (f: ReturnType<typeof file>) => `${f.resident} cached, ${f.hot} hot, ${f.warm} warm`;
	assert.ok(a.hot >= FILE_PAGES * 0.9, `${what}: A (read 3x): ${counts(a)}`);
	assert.ok(b.warm >= FILE_PAGES * 0.9 && b.hot === 0, `${what}: B (read once): ${counts(b)}`);
	assert.is(c.resident, 0, `${what}: C (never read): ${counts(c)}`);
	assert.ok(d.resident >= FILE_PAGES * 0.9 && d.hot + d.warm === d.resident, `${what}: D (mapped, every page touched): ${counts(d)}`);
	assert.ok(d.mapped && d.fds.length === 0, `${what}: D is only mapped: ${JSON.stringify(d.fds)}, mapped ${d.mapped}`);
	for (const f of [a, b, c]) {
		assert.is(f.fds.length, 1, `${what}: ${f.path} fds ${JSON.stringify(f.fds)}`);
		assert.is(f.fds[0]!.pid, outcome.pid, `${what}: ${f.path} fd's pid`);
	}
	// The reader moves through A from its middle, one page per step; B was read to its end; C never.
	const aOffset = a.fds[0]!.offset;
	assert.ok(aOffset >= (FILE_PAGES / 2) * PAGE && aOffset <= FILE_PAGES * PAGE, `${what}: A's offset ${aOffset}`);
	assert.is(b.fds[0]!.offset, FILE_PAGES * PAGE, `${what}: B's offset`);
	assert.is(c.fds[0]!.offset, 0, `${what}: C's offset`);
}

const criuTools = criuDumpTools();
const criuSkip = skip ?? (typeof criuTools === 'string' ? criuTools : null);
testUnless(criuSkip, test, 'kmod in VMs: real criu dump with the plugin picks kmod and records A hot, B warm, C not cached, D mapped, the fd offsets', async () => {
	const m = await vmMatrix();
	assert.is(m.criu.skipped, null, 'the criu guests ran');
	assert.is(m.criu.runs.length, 4, 'two kernels times two MGLRU modes');
	for (const run of m.criu.runs) checkCriuDump(run);
});

test.run();
