// The kernel module in emulated VMs: Debian's 6.1 and 6.12 cloud kernels, MGLRU on and off. In each, a file
// read three times must scan HOT, one read once WARM, one never read absent, and the ioctl's error paths
// and resumable scans must hold (kmod/selftest/hotcache_test.c, which prints its own per-check lines).
// HOTCACHE_IOC_MEMCG_SCAN is checked in the same boots (cgroup v2 in the guests). When
// criu-plugin/out/hotcache-capture is built, the same boots also run it against a live reader, in both
// scopes. Real criu in these kernels is test/criu-vm.test.ts's.
// First run on a fresh machine: builds two Debian root file systems (the kernels with headers and
// compiler), about a minute and a half; afterwards about 40 s.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { vmSkipReason } from '../tools/vm/host.js';
import { builtCaptureTool } from '../tools/vm/capture-image.js';
import { runKmodVmMatrix, type VmMatrix, type VmRun } from '../tools/vm/matrix.js';
import { testUnless } from './support.js';

const HOTCACHE_LRU_CLASSIC = 1;
const HOTCACHE_LRU_MGLRU = 2;
const FILE_PAGES = 1024;
const MEMCG_PAGES = 256;

function describe(run: VmRun): string {
	return `${run.kernel} mglru=${run.mglru} (attempts ${run.attempts}${run.retries.length ? `, retried: ${run.retries.join('; ')}` : ''})`;
}

function checkRun(run: VmRun): void {
	const what = describe(run);
	const { report } = run;
	const result = report.result;
	assert.ok(result, `${what}: no result from the guest; console tail:\n${run.console.slice(-4000)}`);
	assert.equal(report.failed, [], `${what}: failed checks in the guest`);
	assert.ok(result.ok && result.failures === 0, `${what}: guest verdict not ok`);
	// The guest applied the requested MGLRU mode (lru_gen/enabled as it read it back), and the module saw the same.
	if (run.mglru === 'y') assert.ok(report.mglru !== null && /^0x0*[1-9a-f]/.test(report.mglru), `${what}: lru_gen/enabled is ${report.mglru}`);
	else assert.is(report.mglru, '0x0000', `${what}: lru_gen/enabled`);
	assert.is(result.lru, run.mglru === 'y' ? HOTCACHE_LRU_MGLRU : HOTCACHE_LRU_CLASSIC, `${what}: module reported lru ${result.lru}`);
	const { A, B, C } = result.files;
	assert.ok(A.hot >= FILE_PAGES * 0.9, `${what}: A (read 3x) hot ${A.hot} of ${FILE_PAGES}`);
	assert.ok(B.warm >= FILE_PAGES * 0.9 && B.hot === 0, `${what}: B (read once) warm ${B.warm}, hot ${B.hot}`);
	assert.is(C.hot + C.warm + C.resident, 0, `${what}: C (never read) has resident pages`);
	// HOTCACHE_IOC_MEMCG_SCAN of cgroup X (kmod/selftest/memcg_test.c, which also checks restarts, errors, races).
	const { M1, M2, M3, M4, L } = result.memcg;
	assert.ok(M1.hot >= MEMCG_PAGES * 0.9, `${what}: M1 (read 3x in X) hot ${M1.hot} of ${MEMCG_PAGES}`);
	assert.ok(M2.warm >= MEMCG_PAGES * 0.9 && M2.hot === 0, `${what}: M2 (read once in X) warm ${M2.warm}, hot ${M2.hot}`);
	assert.ok(L.hot >= MEMCG_PAGES * 0.9, `${what}: L (read 3x in X through overlayfs) hot ${L.hot}`);
	assert.is(M3.hot + M3.warm + M3.resident, 0, `${what}: M3 (read in cgroup Y) listed for X`);
	assert.is(M4.hot + M4.warm + M4.resident, 0, `${what}: M4 (never read) listed`);
}

// Both tests read the same boots: the matrix runs once.
let matrix: Promise<VmMatrix> | null = null;
const log = (line: string) => process.stderr.write(`${line}\n`);
function vmMatrix(): Promise<VmMatrix> {
	const started = Date.now();
	matrix ??= runKmodVmMatrix(log).then((m) => {
		log(`kmod-vm: prepare ${m.prepareMs} ms; builds ${m.builds.map((b) => `${b.kernel} ${b.buildMs} ms`).join(', ')}; total ${Date.now() - started} ms`);
		return m;
	});
	return matrix;
}

const skip = vmSkipReason();

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
		assert.ok(run.report.capture?.ok, `${what}: hotcache-capture failed: ${JSON.stringify(run.report.capture)}\n${logText}`);
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

// The cgroup scope in the guests (cgroup v2), end to end through hotcache-capture: a process alone in a
// memory cgroup read S three times and T once and closed them; U was read from the root cgroup. With the
// module's listing (kmod) and with the walk filtered by /proc/kpagecgroup (kpageflags), S and T are in the
// image as the process sees them and U is not; the module tells S hot and T warm under both LRUs.
testUnless(captureSkip, test, 'kmod in VMs: hotcache-capture --pid with the cgroup scope, by the module and by the walk', async () => {
	const m = await vmMatrix();
	for (const run of m.runs) {
		const what = describe(run);
		const logText = run.report.scopeLog.join('\n');
		for (const backend of ['kmod', 'kpageflags'] as const) {
			const ok = run.report.scope.find((s) => s.backend === backend);
			assert.ok(ok?.ok, `${what}: hotcache-capture --backend ${backend} failed: ${JSON.stringify(ok)}\n${logText}`);
			const image = run.scopeImages[backend];
			assert.ok(image, `${what}: no ${backend} image on the guest disk\n${logText}`);
			assert.is(image.backend, backend, `${what}: backend`);
			assert.is(image.scope, 'cgroup', `${what}: ${backend}: scope\n${logText}`);
			assert.is(image.cgroup, '/sys/fs/cgroup/scope', `${what}: ${backend}: cgroup`);
			assert.is(image.partial, false, `${what}: ${backend}: partial\n${logText}`);
			const file = (name: string) => image.files.find((f) => f.path === name);
			const [s, t] = [file('/mnt/S'), file('/mnt/T')];
			assert.ok(s && s.resident >= MEMCG_PAGES * 0.9, `${what}: ${backend}: S ${JSON.stringify(s)}\n${logText}`);
			assert.ok(t && t.resident >= MEMCG_PAGES * 0.9, `${what}: ${backend}: T ${JSON.stringify(t)}`);
			assert.not.ok(file('/mnt/U'), `${what}: ${backend}: U, read by the root cgroup, is in the image`);
			if (backend === 'kmod') {
				assert.ok(s.hot >= MEMCG_PAGES * 0.9, `${what}: S (read 3x) hot ${s.hot}`);
				assert.ok(t.warm >= MEMCG_PAGES * 0.9 && t.hot === 0, `${what}: T (read once) warm ${t.warm}, hot ${t.hot}`);
			}
		}
		assert.match(logText, /cgroup scope \/sys\/fs\/cgroup\/scope: listed by the module/, `${what}: the kmod capture used the module's listing`);
		assert.match(logText, /cgroup scope \/sys\/fs\/cgroup\/scope: walked/, `${what}: the kpageflags capture walked`);
	}
});

test.run();
