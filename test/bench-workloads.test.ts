// The workloads really publish their progress in the shared mapping (bytes, operations, which pages
// or files they read in which epoch), and the sampler's timeline of a workload of known speed shows
// that speed. Waits are bounded polls that fail with what was seen, never assertions on time taken.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { buildWorkloads, workloadBin } from '../tools/bench/build.js';
import { createProgressFile, ProgressReader, readInEpoch, setEpoch, type Counts } from '../tools/bench/progress-file.js';
import { Sampler, toTimeline, wallMs } from '../tools/bench/sampler.js';
import { amountBetween, rates } from '../tools/bench/timeline.js';
import { median } from '../tools/bench/stats.js';
import { QUICK } from '../tools/bench/settings.js';
import { webFile, workload, writeRandomFile } from '../tools/bench/workloads.js';
import { scratchDir } from './support.js';

const PAGE = 4096;
const MiB = 2 ** 20;
const w = suite('bench: workloads and sampler');
let dir = '';
const children: ChildProcess[] = [];

w.before(() => {
	buildWorkloads();
	dir = scratchDir('bench-workloads').dir;
});
w.after.each(async () => {
	for (const child of children.splice(0)) {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGKILL');
			await once(child, 'exit');
		}
	}
});

function start(program: string, args: string[]): ChildProcess {
	const child = spawn(path.join(workloadBin, program), args, { stdio: ['ignore', 'ignore', 'pipe'] });
	children.push(child);
	return child;
}

/** Polls the progress file until `done` holds (at most 30 s: then fails with the last counts). */
async function until(reader: ProgressReader, done: (c: Counts) => boolean, what: string): Promise<Counts> {
	let last: Counts | null = null;
	for (let i = 0; i < 600; i++) {
		last = reader.read();
		if (last && done(last)) return last;
		await delay(50);
	}
	throw new Error(`${what}: never happened; last counts ${JSON.stringify(last)}`);
}

w('reread: 1 MiB reads over and over the file; every page stamped with the epoch in force', async () => {
	const file = path.join(dir, 'reread-file');
	const progress = path.join(dir, 'reread-progress');
	writeRandomFile(file, 4 * MiB + 3 * PAGE);
	const pages = 4 * 256 + 3;
	createProgressFile(progress, pages);
	start('reread', ['-f', file, '-p', progress]);
	const reader = new ProgressReader(progress);
	try {
		const c = await until(reader, (x) => x.bytes > 3 * (4 * MiB + 3 * PAGE), 'three passes');
		// Each pass is 4 reads of 1 MiB and one of 3 pages, plus the EOF read that counts nothing.
		assert.ok(c.ops >= 15, `ops ${c.ops}`);
		const inOne = readInEpoch(progress, 1);
		assert.ok(Array.from({ length: pages }, (_, i) => i).every(inOne), 'every page read in epoch 1');
		assert.not.ok(inOne(pages), 'no unit past the file');
		setEpoch(progress, 2);
		// Counted after the change: the workload has made many passes since `c` was read.
		const after = reader.read()!.bytes;
		await until(reader, (x) => x.bytes > after + 2 * (4 * MiB + 3 * PAGE), 'two more passes');
		const inTwo = readInEpoch(progress, 2);
		assert.ok(Array.from({ length: pages }, (_, i) => i).every(inTwo), 'every page read again in epoch 2');
	} finally {
		reader.close();
	}
});

w('scatter: 4 KiB random reads, most of them in the first quarter of the file', async () => {
	const file = path.join(dir, 'scatter-file');
	const progress = path.join(dir, 'scatter-progress');
	writeRandomFile(file, 256 * MiB);
	const pages = (256 * MiB) / PAGE;
	createProgressFile(progress, pages);
	const child = start('scatter', ['-f', file, '-p', progress]);
	const reader = new ProgressReader(progress);
	try {
		// Stopped early, while far fewer pages were read than the file has (else every page is read).
		let c: Counts | null = null;
		for (let i = 0; i < 30000 && !(c && c.ops >= 1000); i++) {
			c = reader.read();
			await delay(1);
		}
		child.kill('SIGSTOP');
		c = reader.read();
		assert.ok(c && c.ops >= 1000, `reads: ${JSON.stringify(c)}`);
		assert.is(c!.bytes % PAGE, 0);
		assert.ok(c!.bytes <= c!.ops * PAGE && c!.bytes >= (c!.ops - 1) * PAGE, `bytes ${c!.bytes} for ${c!.ops} reads of one page`);
		const read = readInEpoch(progress, 1);
		const share = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i).filter(read).length / (to - from);
		const hot = share(0, pages / 4);
		const rest = share(pages / 4, pages);
		assert.ok(hot > 5 * rest, `share of pages read: ${hot.toFixed(3)} in the first quarter, ${rest.toFixed(3)} in the rest (${c!.ops} reads)`);
	} finally {
		reader.close();
	}
});

w('webtree: opens, reads and closes whole files, the popular tenth most', async () => {
	const settings = { ...QUICK, webFiles: 300, webMaxBytes: 8192 };
	// fill() writes <dir>/tree, the layout the program reads.
	await workload('webtree').fill(dir, settings);
	const progress = path.join(dir, 'web-progress');
	createProgressFile(progress, settings.webFiles);
	start('webtree', ['-d', path.join(dir, 'tree'), '-n', String(settings.webFiles), '-p', progress]);
	const reader = new ProgressReader(progress);
	try {
		const c = await until(reader, (x) => x.ops >= 3000, '3000 files');
		const sizes = Array.from({ length: settings.webFiles }, (_, i) => statSync(webFile(path.join(dir, 'tree'), i)).size);
		assert.ok(c.bytes >= c.ops * Math.min(...sizes) && c.bytes <= c.ops * Math.max(...sizes), `${c.bytes} bytes for ${c.ops} files`);
		const read = readInEpoch(progress, 1);
		assert.ok(Array.from({ length: 30 }, (_, i) => i).every(read), 'every popular file read');
		assert.is(workload('webtree').unitOf(dir, webFile(path.join(dir, 'tree'), 257), 0), 257);
		assert.is(workload('webtree').unitOf(dir, path.join(dir, 'elsewhere'), 0), -1);
	} finally {
		reader.close();
	}
});

/** A re-reader of an 8 MiB file paced at `rate` bytes/s, and a reader of its progress file. */
function pacedReread(name: string, rate: number): { child: ChildProcess; reader: ProgressReader } {
	const file = path.join(dir, `${name}-file`);
	const progress = path.join(dir, `${name}-progress`);
	writeRandomFile(file, 8 * MiB);
	createProgressFile(progress, 2048);
	const reader = new ProgressReader(progress);
	return { child: start('reread', ['-f', file, '-p', progress, '-b', '64k', '-r', String(rate)]), reader };
}

w('the sampler\'s timeline of a re-reader paced at 40 MB/s shows 40 MB/s, in samples 100 ms apart', async () => {
	const rate = 40 * MiB;
	const origin = wallMs();
	const { reader } = pacedReread('paced', rate);
	const sampler = new Sampler(() => reader.read());
	sampler.start();
	let samples;
	try {
		await until(reader, (x) => x.bytes >= 2 * rate, 'two seconds of reading');
	} finally {
		samples = sampler.stop();
		reader.close();
	}
	const tl = toTimeline(samples, origin);
	const moving = tl.filter((s) => s.bytes > 0);
	const first = moving[0]!;
	const last = moving[moving.length - 1]!;
	// The workload keeps its own schedule (it catches up after a pause of up to 0.25 s), so over the
	// whole run the amount is the rate times the time on a loaded machine too.
	const mean = amountBetween(tl, first.t, last.t, 'bytes') / (last.t - first.t);
	assert.ok(Math.abs(mean - rate) < 0.1 * rate, `mean ${(mean / MiB).toFixed(1)} MiB/s`);
	const gaps = tl.slice(1).map((s, i) => s.t - tl[i]!.t);
	assert.ok(Math.abs(median(gaps) - 0.1) < 0.02, `median gap ${median(gaps)} s`);
	const perSample = rates(moving, 'bytes').map((p) => p.perSecond);
	assert.ok(Math.abs(median(perSample) - rate) < 0.2 * rate, `median sample ${(median(perSample) / MiB).toFixed(1)} MiB/s`);
});

w('a paced re-reader stopped for a second does not make up for it afterwards (a moved process neither)', async () => {
	const rate = 8 * MiB;
	const { child, reader } = pacedReread('stopped', rate);
	try {
		await until(reader, (x) => x.bytes >= rate / 2, 'half a second of reading');
		child.kill('SIGSTOP');
		await delay(1000);
		const before = reader.read()!.bytes;
		child.kill('SIGCONT');
		await delay(500);
		const after = reader.read()!.bytes;
		// Caught up, it would read the lost second's 8 MiB at once: 12 MiB in the half second.
		assert.ok(after - before < 0.75 * rate, `${((after - before) / MiB).toFixed(1)} MiB in the half second after the stop`);
		assert.ok(after - before > 0, 'it reads on');
	} finally {
		reader.close();
	}
});

w('a bad command line is refused with the usage (exit 2)', async () => {
	for (const program of ['reread', 'scatter', 'webtree', 'evict']) {
		const child = start(program, []);
		let err = '';
		child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
		const [code] = (await once(child, 'exit')) as [number];
		assert.is(code, 2, program);
		assert.match(err, new RegExp(`^usage: ${program} `));
	}
});

w.run();
