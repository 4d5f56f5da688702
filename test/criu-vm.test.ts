// Real criu with the plugin in emulated VMs: the rows of the README's compatibility table. Debian
// bookworm's criu 3.17.1 on bookworm's 6.1 kernel and trixie's criu 4.1.1 on trixie's 6.12, each with its
// release's Node.js for the prefetcher, hotcache.ko loaded. One boot per row (tools/vm/guest-criu.sh):
// in the kernel's default LRU mode, a dump of the reader fixture with the plugin's own backend choice,
// three restores of it from a cold cache (the prefetcher started by the plugin's init(RESTORE), by the
// action script on criu's command line, by both), a dump with criu's file validation by size, dumps with
// kpageflags and mincore forced; then the same dumps in the other LRU mode.
// First run on a fresh machine: the two guests' root file systems (debootstrap of criu, nodejs and
// util-linux-extra), about a minute in parallel; afterwards each boot takes about 30 s on a quiet machine,
// up to 2.3 min on a busy one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pageCounts, type HotcacheImage, type ImageFile } from '../proto/image.js';
import { criuJobTools, type CriuJobRun } from '../tools/vm/criu-job.js';
import { CRIU_ROWS, runCriuVmMatrix, type CriuMatrix } from '../tools/vm/criu-matrix.js';
import { JOB_MOUNT } from '../tools/vm/criu-guest.js';
import type { CriuDumpStep, CriuRestoreStep, Starter } from '../tools/vm/criu-steps.js';
import { vmSkipReason } from '../tools/vm/host.js';
import { buildFixtures, PAGE, testUnless } from './support.js';

const FILE_PAGES = 1024;
const STARTERS: readonly Starter[] = ['plugin', 'action-script', 'both'];

const log = (line: string) => process.stderr.write(`${line}\n`);
let matrix: Promise<CriuMatrix> | null = null;
function criuMatrix(): Promise<CriuMatrix> {
	matrix ??= runCriuVmMatrix(log).then((m) => {
		log(`criu-vm: prepare ${m.prepareMs} ms; module and initramfs ${JSON.stringify(m.kitMs)}`);
		for (const run of m.runs) log(summarise(run));
		return m;
	});
	return matrix;
}

/** CRIU 4.1 added CHECKPOINT_DEVICES at dump; before it, the plugin captures in exit(DUMP). */
function capturePoint(criu: string): string {
	const [major = 0, minor = 0] = criu.split('.').map(Number);
	return major > 4 || (major === 4 && minor >= 1) ? 'CHECKPOINT_DEVICES' : 'exit(DUMP)';
}

function lruOf(lruGen: string): 'classic' | 'mglru' {
	return lruGen === '0x0000' ? 'classic' : 'mglru';
}

function describe(run: CriuJobRun, what = ''): string {
	return `${run.kernel} criu ${run.criuVersion}${what} (attempts ${run.attempts}${run.retries.length ? `, retried: ${run.retries.join('; ')}` : ''})`;
}

type Counted = ImageFile & { resident: number; hot: number; warm: number };

function fileOf(image: HotcacheImage, name: string, what: string): Counted {
	const f = image.files.find((x) => x.path === `/${JOB_MOUNT}/${name}`);
	assert.ok(f, `${what}: ${name} missing from the image: ${image.files.map((x) => x.path).join(', ')}`);
	return { ...f, ...pageCounts(f) };
}

const counts = (f: Counted) => `${f.resident} cached, ${f.hot} hot, ${f.warm} warm`;

function logExcerpt(step: { log: string | null; output: string | null }): string {
	const text = step.log ?? '(no log on the job disk)';
	const lines = text.split('\n').filter((l) => /hotcache|Error/.test(l));
	return `criu output:\n${step.output ?? '(none)'}\nlog (hotcache and Error lines):\n${lines.join('\n')}\nlog tail:\n${text.slice(-2000)}`;
}

/** The plugin's summary line in a dump log, or null. */
function captureSummary(step: CriuDumpStep): { files: number; backend: string; at: string } | null {
	const m = /hotcache: captured (\d+) files, \d+ pages, \d+ hot, \d+ warm, backend (\w+), \d+ ms, at (\S+)/.exec(step.log ?? '');
	return m ? { files: Number(m[1]), backend: m[2]!, at: m[3]! } : null;
}

function dumpsOf(run: CriuJobRun, backend: string, options = ''): CriuDumpStep[] {
	return run.dumps.filter((d) => d.backend === backend && d.options === options);
}

/** The dump ran, the plugin logged its summary where this CRIU captures, and the image is whole. */
function checkDump(run: CriuJobRun, step: CriuDumpStep, backend: string): { image: HotcacheImage; what: string } {
	const what = describe(run, ` ${step.name} dump`);
	assert.is(step.dump, 0, `${what}: criu dump failed\n${logExcerpt(step)}`);
	assert.ok(step.waited < 600, `${what}: the reader never started counting`);
	const summary = captureSummary(step);
	assert.ok(summary, `${what}: no summary line in dump.log\n${logExcerpt(step)}`);
	assert.is(summary.backend, backend, `${what}: backend in the summary`);
	assert.is(summary.at, capturePoint(run.criuVersion!), `${what}: where criu ${run.criuVersion} captures`);
	const image = step.image;
	assert.ok(image, `${what}: ${step.imageError}\n${logExcerpt(step)}`);
	assert.is(summary.files, image.files.length, `${what}: files in the summary and the image`);
	assert.is(image.capture.backend, backend, `${what}: backend`);
	assert.is(image.capture.lru, lruOf(step.lruGen), `${what}: lru`);
	assert.is(image.capture.partial, false, `${what}: partial capture: ${image.capture.partialReason}`);
	assert.is(image.capture.rootPid, step.pid, `${what}: root pid`);
	return { image, what };
}

function summarise(run: CriuJobRun): string {
	const dumps = run.dumps.map((d) => {
		const files = d.image ? ['A', 'B', 'C', 'D'].map((n) => {
			const f = d.image!.files.find((x) => x.path === `/${JOB_MOUNT}/${n}`);
			return f ? `${n} ${JSON.stringify(pageCounts(f))}` : `${n} absent`;
		}) : [d.imageError];
		return `  ${d.name}: criu ${d.dump}, at ${captureSummary(d)?.at ?? '(no summary)'}; ${files.join(', ')}`;
	});
	const restores = run.restores.map((r) => `  restore (${r.starter}): criu ${r.restore}, running ${r.running}, counter ${r.counter.join(' -> ')}, cold ${JSON.stringify(r.cold)}, resident ${JSON.stringify(r.resident)}, node starts ${r.launches}, prefetcher starts ${r.starts}, restore ${(r.times[1] - r.times[0]).toFixed(2)} s, verdict ${(r.times[2] - r.times[1]).toFixed(2)} s later: ${r.status}`);
	return [`criu-vm: ${describe(run)} ${run.release}, node ${run.nodeVersion}, booted lru_gen ${run.lruGen}, ${run.bootMs} ms:`, ...dumps, ...restores].join('\n');
}

function skipReason(): string | null {
	const vm = vmSkipReason();
	if (vm) return vm;
	// The reader fixture the guests dump (make is quick when it is up to date).
	buildFixtures();
	const tools = criuJobTools();
	return typeof tools === 'string' ? tools : null;
}
const skip = skipReason();

testUnless(skip, test, 'criu in VMs: each row ran its release\'s criu and Node.js through every step, under both LRUs', async () => {
	const m = await criuMatrix();
	assert.is(m.runs.length, CRIU_ROWS.length);
	for (const [i, run] of m.runs.entries()) {
		const what = describe(run);
		assert.ok(run.done, `${what}: the guest did not finish its steps; console tail:\n${run.console.slice(-4000)}`);
		assert.is(run.criuVersion, CRIU_ROWS[i]!.guest.criu, `${what}: criu --version in the guest`);
		assert.match(run.nodeVersion ?? '', /^v\d+\./, `${what}: node --version in the guest`);
		assert.is(run.restores.length, STARTERS.length, `${what}: restores`);
		for (const backend of ['auto', 'kpageflags', 'mincore']) {
			assert.equal(dumpsOf(run, backend).map((d) => lruOf(d.lruGen)).sort(), ['classic', 'mglru'], `${what}: ${backend} dumps under each LRU`);
		}
	}
});

// The plugin picks kmod on its own and captures where the CRIU version allows: A (read 3x) hot, B (read
// once) warm, C (open, never read) not cached, D (only mapped) cached and at least warm, and the fd
// offsets. Before 4.1 the capture runs in exit(DUMP), after criu has checked each dumped file's build-id
// by reading its first bytes through a fresh open: page 0 of B (read once by the reader) is then used
// twice and hot, and C's first pages are cached (that read and its readahead). The same dump with
// --file-validation filesize must show neither.
function checkKmodDump(run: CriuJobRun, step: CriuDumpStep): void {
	const { image, what } = checkDump(run, step, 'kmod');
	const clean = capturePoint(run.criuVersion!) === 'CHECKPOINT_DEVICES' || step.options.includes('--file-validation filesize');
	const [a, b, c, d] = ['A', 'B', 'C', 'D'].map((n) => fileOf(image, n, what)) as [Counted, Counted, Counted, Counted];
	assert.ok(a.hot >= FILE_PAGES * 0.9, `${what}: A (read 3x): ${counts(a)}`);
	assert.ok(b.warm >= FILE_PAGES * 0.9, `${what}: B (read once): ${counts(b)}`);
	if (clean) {
		assert.is(b.hot, 0, `${what}: B (read once): ${counts(b)}`);
		assert.is(c.resident, 0, `${what}: C (never read): ${counts(c)}`);
	} else {
		// criu's read: B's page 0 alone can be hot; C at most the read page and its readahead window.
		assert.ok(b.ranges.every((r) => r.hotness !== 3 || (r.start === 0 && r.count === 1)), `${what}: B's hot pages other than page 0: ${JSON.stringify(b.ranges)}`);
		assert.ok(c.resident <= 4 && c.hot === 0, `${what}: C (never read, then criu's build-id read): ${counts(c)}`);
	}
	assert.ok(d.resident >= FILE_PAGES * 0.9 && d.hot + d.warm === d.resident, `${what}: D (mapped, every page touched): ${counts(d)}`);
	assert.ok(d.mapped && d.fds.length === 0, `${what}: D is only mapped: ${JSON.stringify(d.fds)}, mapped ${d.mapped}`);
	for (const f of [a, b, c]) {
		assert.is(f.fds.length, 1, `${what}: ${f.path} fds ${JSON.stringify(f.fds)}`);
		assert.is(f.fds[0]!.pid, step.pid, `${what}: ${f.path} fd's pid`);
	}
	// The reader moves through A from its middle, one page per step; B was read to its end; C never.
	const aOffset = a.fds[0]!.offset;
	assert.ok(aOffset >= (FILE_PAGES / 2) * PAGE && aOffset <= FILE_PAGES * PAGE, `${what}: A's offset ${aOffset}`);
	assert.is(b.fds[0]!.offset, FILE_PAGES * PAGE, `${what}: B's offset`);
	assert.is(c.fds[0]!.offset, 0, `${what}: C's offset`);
}

testUnless(skip, test, 'criu in VMs: real dumps pick kmod and record A hot, B warm, C not cached, D mapped, the offsets, captured where each CRIU allows', async () => {
	const m = await criuMatrix();
	for (const run of m.runs) {
		for (const step of dumpsOf(run, 'auto')) checkKmodDump(run, step);
		const filesize = dumpsOf(run, 'auto', '--file-validation filesize');
		assert.is(filesize.length, 1, `${describe(run)}: the dump with --file-validation filesize`);
		checkKmodDump(run, filesize[0]!);
	}
});

// kpageflags tells hot from warm on the classic LRU only (PG_active); under MGLRU it says so in the image
// and the log. mincore sees residency alone; both raise mapped pages (D) to warm.
testUnless(skip, test, 'criu in VMs: real dumps with kpageflags and mincore forced', async () => {
	const m = await criuMatrix();
	for (const run of m.runs) {
		for (const step of dumpsOf(run, 'kpageflags')) {
			const { image, what } = checkDump(run, step, 'kpageflags');
			const [a, b, d] = ['A', 'B', 'D'].map((n) => fileOf(image, n, what)) as [Counted, Counted, Counted];
			assert.ok(a.resident >= FILE_PAGES * 0.9 && b.resident >= FILE_PAGES * 0.9 && d.resident >= FILE_PAGES * 0.9, `${what}: A ${counts(a)}; B ${counts(b)}; D ${counts(d)}`);
			if (image.capture.lru === 'classic') {
				assert.ok(image.capture.hotWarmExact, `${what}: hot and warm are exact on the classic LRU`);
				assert.ok(a.hot >= FILE_PAGES * 0.9, `${what}: A (read 3x): ${counts(a)}`);
				assert.ok(b.warm >= FILE_PAGES * 0.9 && b.hot <= 1, `${what}: B (read once): ${counts(b)}`);
			} else {
				assert.not.ok(image.capture.hotWarmExact, `${what}: kpageflags cannot tell hot from warm under MGLRU`);
				assert.match(step.log ?? '', /kpageflags: MGLRU is enabled/, `${what}: the warning`);
			}
		}
		for (const step of dumpsOf(run, 'mincore')) {
			const { image, what } = checkDump(run, step, 'mincore');
			const [a, b, d] = ['A', 'B', 'D'].map((n) => fileOf(image, n, what)) as [Counted, Counted, Counted];
			assert.not.ok(image.capture.hotWarmExact, `${what}: hotWarmExact`);
			assert.ok(a.resident >= FILE_PAGES * 0.9 && a.hot + a.warm === 0, `${what}: A: ${counts(a)}`);
			assert.ok(b.resident >= FILE_PAGES * 0.9 && b.hot + b.warm === 0, `${what}: B: ${counts(b)}`);
			assert.ok(d.resident >= FILE_PAGES * 0.9 && d.warm === d.resident, `${what}: D (mapped): ${counts(d)}`);
		}
	}
});

// After each restore the prefetcher's verdict must be "done", A, B and D (hot and warm in the image)
// resident again although the guest evicted them before criu restore ran, C no more than the image
// asked for, the reader counting on, and exactly one Node started by the launchers (the guest's node
// is a wrapper that counts) with one "start" in the prefetcher's record. The restored reader reads only
// A's second half, a page per 20 ms: B, D and A's first half can only come from the prefetcher.
const LAUNCH_LINES: Record<Starter, { present: RegExp[]; absent: RegExp[] }> = {
	plugin: { present: [/hotcache: init\(RESTORE\): hotcache: prefetcher started for /], absent: [] },
	'action-script': {
		present: [/hotcache: no action script at \S+: the plugin starts no prefetcher/, /^hotcache: prefetcher started for /m],
		absent: [/init\(RESTORE\): hotcache: prefetcher started/],
	},
	both: { present: [/hotcache: init\(RESTORE\): hotcache: prefetcher started for /, /^hotcache: a prefetcher was already started for this restore/m], absent: [] },
};

function checkRestore(run: CriuJobRun, starter: Starter): void {
	const what = describe(run, ` restore (${starter})`);
	const step: CriuRestoreStep | undefined = run.restores.find((r) => r.starter === starter);
	assert.ok(step, `${what}: did not run`);
	assert.is(step.restore, 0, `${what}: criu restore failed\n${logExcerpt(step)}`);
	for (const re of LAUNCH_LINES[starter].present) assert.match(step.log ?? '', re, `${what}: restore.log\n${logExcerpt(step)}`);
	for (const re of LAUNCH_LINES[starter].absent) assert.not.match(step.log ?? '', re, `${what}: restore.log\n${logExcerpt(step)}`);
	assert.is(step.launches, 1, `${what}: Node started ${step.launches} times`);
	assert.is(step.starts, 1, `${what}: prefetcher "start" events`);
	assert.match(step.status ?? '', /^hotcache: prefetch done: [1-9]\d* pages fetched/, `${what}: the prefetcher's verdict`);
	assert.equal(step.cold, { A: 0, B: 0, C: 0, D: 0 }, `${what}: the files were not evicted before the restore`);
	for (const name of ['A', 'B', 'D'] as const) {
		assert.ok(step.resident[name] >= FILE_PAGES * 0.99, `${what}: ${name} resident ${step.resident[name]} of ${FILE_PAGES} after the prefetch`);
	}
	const dumped = run.dumps.find((d) => d.backend === 'auto' && d.options === '' && lruOf(d.lruGen) === lruOf(step.lruGen));
	const c = dumped?.image ? fileOf(dumped.image, 'C', what) : null;
	assert.ok(c, `${what}: no image of the dump it restored`);
	assert.ok(step.resident.C <= c.hot + c.warm, `${what}: C resident ${step.resident.C}, the image asked for ${c.hot + c.warm}`);
	assert.ok(step.running && step.counter[1] > step.counter[0], `${what}: the restored reader does not run on: running ${step.running}, counter ${step.counter.join(' -> ')}`);
}

for (const starter of STARTERS) {
	const who = { plugin: 'the plugin alone (init(RESTORE))', 'action-script': 'the action script alone (criu --action-script)', both: 'both the plugin and the action script: one prefetcher' }[starter];
	testUnless(skip, test, `criu in VMs: real restores, prefetcher started by ${who}: the hot files come back and the process runs on`, async () => {
		const m = await criuMatrix();
		for (const run of m.runs) checkRestore(run, starter);
	});
}

test.run();
