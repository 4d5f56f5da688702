// The NFS VMs' check (tools/bench/nfs-vms.ts) in its cheap pieces: the guests' config and plan, the
// network options, the two clients' samples made into one timeline and judged, the destination's
// progress file. The VMs themselves are not booted here: under emulation a session takes about 1.5 min
// to build its disks, boot, mount and install, and one run with a migration 1.5-2 min more (Node and
// criu are slow there): over the 3 minutes a VM test may cost in the suite.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { MigrationSummary } from '../tools/migrate/summary.js';
import { guestConfig, guestPlan, judgeNfsRuns, type NfsVmsSettings } from '../tools/bench/nfs-vms.js';
import { coldSecondsAfterResume, mergedTimeline, nfsObservation, type GuestRun } from '../tools/bench/nfs-observation.js';
import { createProgressFile, ProgressReader } from '../tools/bench/progress-file.js';
import type { RawSample } from '../tools/bench/sampler.js';
import { clientNetwork, freeLinkPorts, serverNetwork } from '../tools/vm/nfs-net.js';
import { shellAssignments } from '../tools/vm/nfs-session.js';

const t = suite('nfs-vms: config, network, timelines');
const MiB = 2 ** 20;
const SETTINGS: NfsVmsSettings = { runs: 2, variants: ['none', 'off', 'precopy'], fileBytes: 8 * MiB, windowS: 10, moveAtS: 3, paceBps: null };
const T0 = 1_700_000_000_000; // ms

/** Samples every 100 ms from `from` to `to` seconds after T0 (on the clock `shiftMs` ahead), of `count(t)`. */
function samples(from: number, to: number, count: (t: number) => number, shiftMs = 0): RawSample[] {
	const out: RawSample[] = [];
	for (let k = Math.round(from * 10); k <= Math.round(to * 10); k++) out.push({ at: T0 + k * 100 + shiftMs, bytes: count(k / 10), ops: count(k / 10) / MiB });
	return out;
}

/** A run moved at 3 s: frozen at 4 s, resumed at 5 s; src read 100 MB/s before, dst 100 MB/s after. */
function movedRun(offsetMs: number): { run: GuestRun; src: RawSample[]; dst: RawSample[]; summary: MigrationSummary } {
	const rate = 100 * MiB;
	const src = samples(0, 10.3, (s) => rate * Math.min(s, 4));
	const dst = samples(-0.5, 10.3, (s) => (s < 5 ? 0 : rate * (s - 5)), offsetMs);
	const run: GuestRun = { variant: 'precopy', pid: 30016, startNs: T0 * 1e6, askedNs: (T0 + 3000) * 1e6, endNs: (T0 + 10_500) * 1e6, warmNs: [0, 2e9], coldPages: [0, 0], outcome: 'moved' };
	const summary = { outcome: 'moved', requestedAtMs: T0 + 3200, timeline: { freeze: 800, resume: 1800 }, clock: { offsetMs, errorMs: 1 } } as unknown as MigrationSummary;
	return { run, src, dst, summary };
}

t('the plan interleaves the variants run by run, each as the --warm mode the guest passes', () => {
	assert.is(guestPlan(SETTINGS), 'none off precopy none off precopy');
});

t('the guest config runs the benchmark\'s reread on the export, with its progress file\'s size', () => {
	const c = guestConfig(SETTINGS);
	assert.is(c.common.FILE, 'reread/file');
	assert.is(c.plan.WORKLOAD, 'exec /opt/hotcache/dist/bench/bin/reread -f /mnt/nfs/reread/file -p /run/hcbench/progress');
	assert.is(c.plan.UNITS, String((8 * MiB) / 4096));
	assert.is(c.plan.WINDOW_S, '10');
	assert.is(c.plan.MOVE_AT_S, '3');
	assert.match(guestConfig({ ...SETTINGS, paceBps: 80e6 }).plan.WORKLOAD!, / -p \/run\/hcbench\/progress -r 80000000$/, 'paced: reread -r');
});

t('the config is sh assignments that a real sh reads back as given, quotes and spaces included', () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'nfs-vms-test-'));
	try {
		const file = path.join(dir, 'config');
		writeFileSync(file, shellAssignments({ A: "it's $HOME `x`", B: 'a b  c' }));
		const r = spawnSync('sh', ['-c', `. ${file}; printf '%s|%s' "$A" "$B"`], { encoding: 'utf8' });
		assert.is(r.stdout, "it's $HOME `x`|a b  c");
		assert.throws(() => shellAssignments({ 'A;rm': 'x' }), /not a shell variable name/);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

t('each client\'s socket is the crossed pair of its hub port on the server, on 127.0.0.1 only', async () => {
	const links = await freeLinkPorts(2);
	const ports = links.flatMap((l) => [l.server, l.client]);
	assert.is(new Set(ports).size, 4);
	const srv = serverNetwork(links).join(' ');
	const dst = clientNetwork(links[1]!, 3).join(' ');
	assert.match(srv, `socket,id=s2,udp=127.0.0.1:${links[1]!.client},localaddr=127.0.0.1:${links[1]!.server}`);
	assert.match(srv, 'hubport,id=hp2,hubid=0,netdev=s2');
	assert.match(dst, `socket,id=n0,udp=127.0.0.1:${links[1]!.server},localaddr=127.0.0.1:${links[1]!.client}`);
	assert.match(dst, 'mac=52:54:00:00:00:03,romfile=');
	assert.not.match(srv + dst, /listen=|connect=/);
});

t('the two clients\' counts add up on the source\'s clock, the destination\'s moved by the offset', () => {
	for (const offsetMs of [0, 2500, -700]) {
		const { src, dst } = movedRun(offsetMs);
		const tl = mergedTimeline(src, dst, offsetMs, T0);
		const at = (s: number) => tl.find((x) => Math.abs(x.t - s) < 1e-6)!.bytes / MiB;
		assert.is(at(2), 200, `before the freeze, offset ${offsetMs}`);
		assert.is(at(4.5), 400, `frozen, offset ${offsetMs}`);
		assert.is(at(7), 600, `after the resume, offset ${offsetMs}`);
	}
});

t('a run\'s observation: the window from the start, the request, freeze and resume from the summary', () => {
	const { run, src, dst, summary } = movedRun(1000);
	const obs = nfsObservation(run, src, dst, summary, 10);
	assert.equal(obs.window, { from: 0, to: 10 });
	assert.is(obs.askedAt, 3);
	assert.ok(Math.abs(obs.freeze! - 4) < 1e-9 && Math.abs(obs.resume! - 5) < 1e-9, `${obs.freeze} ${obs.resume}`);
	const notMoved = nfsObservation({ ...run, outcome: 'restored-on-source' }, src, [], { ...summary, outcome: 'restored-on-source' }, 10);
	assert.is(notMoved.freeze, null);
});

t('cold seconds after the resume: the half-second steps below half the run\'s own rate before the request', () => {
	const rate = 100 * MiB;
	// Full speed to the freeze at 4 s, nothing to the resume at 5 s, a tenth of it to 8 s, full speed after.
	const count = (s: number) => rate * Math.min(s, 4) + (s > 5 ? 0.1 * rate * (Math.min(s, 8) - 5) : 0) + (s > 8 ? rate * (s - 8) : 0);
	const tl = mergedTimeline(samples(0, 20, count), [], 0, T0);
	assert.is(coldSecondsAfterResume(tl, 3, 5, 20), 3);
	assert.is(coldSecondsAfterResume(tl, 3, 5, 7), 2, 'counted within the window only');
	assert.is(coldSecondsAfterResume(tl, 3, 21, 20), null, 'resumed after the window');
	assert.is(coldSecondsAfterResume(tl, 3, null, 20), null);
});

t('runs written as the source guest writes them are judged against no migration', () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'nfs-vms-test-'));
	try {
		const rate = 100 * MiB;
		const none = { ...movedRun(0).run, variant: 'none', outcome: 'none' };
		const write = (n: number, files: Record<string, unknown>) => {
			mkdirSync(path.join(dir, `run-${n}`));
			for (const [name, value] of Object.entries(files)) writeFileSync(path.join(dir, `run-${n}`, name), JSON.stringify(value));
		};
		write(1, { 'run.json': none, 'src.json': samples(0, 10.3, (s) => rate * s), 'dst.json': samples(0, 10.3, () => 0) });
		const moved = movedRun(0);
		write(2, { 'run.json': moved.run, 'src.json': moved.src, 'dst.json': moved.dst, 'migrate.json': moved.summary });
		const { runs, summaries } = judgeNfsRuns(dir, { ...SETTINGS, runs: 1, variants: ['none', 'precopy'] });
		assert.equal(runs.map((r) => r.variant), ['none', 'precopy']);
		const lost = runs[1]!.metrics;
		// 1000 MB without migration; 400 before the freeze + 500 after the resume moved: 1 s of work lost.
		assert.ok(Math.abs(lost.secondsLost! - 1) < 1e-6, `seconds lost ${lost.secondsLost}`);
		assert.ok(Math.abs(lost.downtime! - 1) < 1e-9);
		assert.ok(Math.abs(runs[0]!.linkMBps - (8 * MiB) / 1e6 / 2) < 1e-9, 'the cold read\'s MB/s');
		assert.equal(summaries.map((s) => s.variant), ['none', 'precopy']);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

t('the destination\'s progress file counts from zero for the restored workload; the source\'s waits for it', () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'nfs-vms-test-'));
	try {
		createProgressFile(path.join(dir, 'dst'), 16, { counting: true });
		createProgressFile(path.join(dir, 'src'), 16);
		const dst = new ProgressReader(path.join(dir, 'dst'));
		const src = new ProgressReader(path.join(dir, 'src'));
		assert.equal(dst.read(), { bytes: 0, ops: 0 });
		assert.is(src.read(), null);
		dst.close();
		src.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

t.run();
