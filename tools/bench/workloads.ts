// The benchmark's workloads: the reference re-reader, a scattered database-like reader, the re-reader
// with a large anonymous memory, a static web tree, and SQLite (an application nobody here wrote).
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { BenchSettings } from './settings.js';
import { timelineFromEvents } from './timeline.js';
import type { RunPaths, Workload, WorkloadId } from './workload.js';
import { SAMPLE_MS } from './sampler.js';
import { sqlite } from './sqlite.js';
import { parseIdList } from './id-list.js';

const PAGE = 4096;
const MiB = 2 ** 20;
const mib = (bytes: number): string => `${+(bytes / MiB).toFixed(1)} MiB`;
const pages = (bytes: number): number => Math.ceil(bytes / PAGE);

/** A file of `bytes` random bytes (random, so that nothing below can shortcut reading it). */
export function writeRandomFile(file: string, bytes: number): void {
	const fd = openSync(file, 'w', 0o644);
	try {
		const block = randomBytes(MiB);
		for (let done = 0; done < bytes; done += MiB) writeSync(fd, block, 0, Math.min(MiB, bytes - done));
	} finally {
		closeSync(fd);
	}
}

const FILE = 'file';

function singleFile(id: WorkloadId, label: string, describe: (s: BenchSettings) => string, command: (p: RunPaths, s: BenchSettings) => string): Workload {
	return {
		id,
		label,
		measure: 'bytes',
		describe,
		async fill(dir, s) {
			writeRandomFile(path.join(dir, FILE), s.fileBytes);
		},
		dataEntries: (dataDir) => [path.join(dataDir, FILE)],
		units: (s) => pages(s.fileBytes),
		unitOf: (dataDir, file, page) => (file === path.join(dataDir, FILE) ? page : -1),
		command,
	};
}

const reread = singleFile(
	'reread',
	'sequential re-reader',
	(s) => `re-reads a ${mib(s.fileBytes)} file from start to end with 1 MiB reads, forever (the seed study's workload)`,
	(p) => `exec ${p.bin}/reread -f ${p.data}/${FILE} -p ${p.progress}`,
);

const rereadAnon = singleFile(
	'reread-anon',
	're-reader + anonymous memory',
	(s) => `the sequential re-reader holding ${mib(s.anonBytes)} of anonymous memory: its images take seconds to cross the migration link`,
	(p, s) => `exec ${p.bin}/reread -f ${p.data}/${FILE} -p ${p.progress} -m ${s.anonBytes}`,
);

/** Share of the scattered reader's file, and of the web tree's files, that gets 90% of the reads (-H of workloads/scatter.c, webtree.c). */
const SCATTER_HOT_PERCENT = 25;
const WEB_HOT_PERCENT = 10;

const scatter: Workload = {
	...singleFile(
		'scatter',
		'scattered reader',
		(s) => `random 4 KiB preads of a ${mib(s.fileBytes)} file without readahead, 90% of them in its first quarter (a database's page reads)`,
		(p) => `exec ${p.bin}/scatter -f ${p.data}/${FILE} -p ${p.progress} -H ${SCATTER_HOT_PERCENT}`,
	),
	// The hot quarter first, then the rest: one read in ten lands outside the hot set, and those misses
	// (at the link's IOPS) would hold the reader back if the prefetch stopped at the hot set.
	oracle: (dataDir, s) => {
		const pages = Math.floor(s.fileBytes / PAGE);
		const hot = Math.max(1, Math.floor((pages * SCATTER_HOT_PERCENT) / 100));
		const file = path.join(dataDir, FILE);
		return [{ path: file, start: 0, count: hot }, ...(pages > hot ? [{ path: file, start: hot, count: pages - hot }] : [])];
	},
};

const TREE = 'tree';

/** File i of the web tree, as workloads/webtree.c names it. */
export function webFile(tree: string, i: number): string {
	return path.join(tree, Math.floor(i / 256).toString(16).padStart(2, '0'), String(i).padStart(6, '0'));
}

/** Size of file i of the web tree: spread evenly over 1 KiB..max, in a fixed order (the same tree on every run). */
function webFileBytes(i: number, s: BenchSettings): number {
	return 1024 + (((i * 2654435761) >>> 0) % (s.webMaxBytes - 1024 + 1));
}

const webtree: Workload = {
	id: 'webtree',
	label: 'static web tree',
	measure: 'bytes',
	describe: (s) => `opens, reads and closes files of a tree of ${s.webFiles} files of 1 to ${Math.round(s.webMaxBytes / 1024)} KiB, 90% of the picks among the first 10% (the popular pages)`,
	async fill(dir, s) {
		const tree = path.join(dir, TREE);
		const pool = randomBytes(s.webMaxBytes);
		for (let i = 0; i < s.webFiles; i++) {
			const file = webFile(tree, i);
			if (i % 256 === 0) mkdirSync(path.dirname(file), { recursive: true });
			writeFileSync(file, pool.subarray(0, webFileBytes(i, s)));
		}
	},
	dataEntries: (dataDir) => [path.join(dataDir, TREE)],
	units: (s) => s.webFiles,
	unitOf(dataDir, file) {
		const tree = path.join(dataDir, TREE) + '/';
		if (!file.startsWith(tree)) return -1;
		const m = /^[0-9a-f]{2}\/(\d{6})$/.exec(file.slice(tree.length));
		return m ? Number(m[1]) : -1;
	},
	// Every file, the hot tenth (the first files) first: the other picks would miss otherwise.
	oracle: (dataDir, s) => Array.from({ length: s.webFiles }, (_, i) => ({ path: webFile(path.join(dataDir, TREE), i), start: 0, count: pages(webFileBytes(i, s)) })),
	command: (p, s) => `exec ${p.bin}/webtree -d ${p.data}/${TREE} -n ${s.webFiles} -p ${p.progress} -H ${WEB_HOT_PERCENT}`,
};

const sqliteWorkload: Workload = {
	id: 'sqlite',
	label: 'SQLite lookups',
	measure: 'ops',
	describe: (s) =>
		`sqlite3's shell runs a loop of queries on a ${mib(s.sqliteBytes)} database (read-only, immutable), each ${sqlite.LOOKUPS} primary-key lookups, 90% in the first quarter of the rows; it stamps every query with its own clock`,
	fill: (dir, s) => sqlite.create(path.join(dir, sqlite.DB), s.sqliteBytes),
	dataEntries: (dataDir) => [path.join(dataDir, sqlite.DB)],
	units: () => 0,
	unitOf: () => -1,
	prepareRun(p, s) {
		writeFileSync(path.join(p.run, sqlite.QUERIES), sqlite.queries(path.join(p.run, sqlite.QUERIES), sqlite.rowsFor(s.sqliteBytes)));
	},
	command: (p) =>
		`exec sqlite3 -batch -readonly 'file:${p.data}/${sqlite.DB}?immutable=1' <${p.run}/${sqlite.QUERIES} >${p.run}/${sqlite.OUTPUT} 2>${p.run}/sqlite.err`,
	ownTimeline(p, originMs, toS) {
		const stamps = sqlite.stamps(readFileSync(path.join(p.run, sqlite.OUTPUT), 'utf8'));
		return timelineFromEvents(stamps.map((ms) => (ms - originMs) / 1000), 0, toS, SAMPLE_MS / 1000, sqlite.LOOKUPS);
	},
};

const WORKLOADS: readonly Workload[] = [reread, scatter, rereadAnon, webtree, sqliteWorkload];

export function workload(id: WorkloadId): Workload {
	const w = WORKLOADS.find((x) => x.id === id);
	if (!w) throw new Error(`unknown workload ${id}`);
	return w;
}

export function parseWorkloads(text: string): WorkloadId[] {
	return parseIdList(text, WORKLOADS.map((w) => w.id), 'workload');
}
