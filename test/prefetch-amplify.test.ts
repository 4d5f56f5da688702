// Images that used to multiply into gigabytes on the restore side, through the real prefetcher:
// thousands of entries with dozens of fds naming one file (memory), and long padded paths repeated on
// every request event (the record). Both must cost what one file costs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeImage } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { evict, hot, image, imageFile, initPidLine, scratchDir, testUnless, writeFile } from './support.js';

const run = promisify(execFile);

const base = scratchDir('amplify').dir;
const MEMCG = '/sys/fs/cgroup/memory';

interface Outcome {
	status: string;
	record: string;
	events: Record<string, unknown>[];
}

/** The prefetcher on `img`, its soft fd limit raised to the hard one; `cgroup`: a memory cgroup to run in. */
async function prefetcher(name: string, img: Uint8Array, env: Record<string, string> = {}, cgroup?: string): Promise<Outcome> {
	const state = path.join(base, name);
	const dir = path.join(state, 'restores', '1.1');
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'hotcache.img'), img);
	writeFileSync(path.join(dir, 'init-pid'), initPidLine()); // this process stands in for the restored init
	const join = cgroup ? `echo $$ >${cgroup}/cgroup.procs && ` : '';
	await run('sh', ['-c', `${join}ulimit -n $(ulimit -Hn) && exec "$@"`, '-', process.execPath, path.join(projectRoot, 'dist/hooks/prefetcher.js'), dir], {
		env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '', ...env },
		timeout: 120_000,
	}).catch(() => undefined); // the status says how it went
	const read = (f: string) => {
		try {
			return readFileSync(path.join(dir, f), 'utf8');
		} catch {
			return '';
		}
	};
	const record = read('record.jsonl');
	return { status: read('status').trim(), record, events: record.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function memcgReason(): string | null {
	if (process.getuid?.() !== 0) return 'needs root (a memory cgroup and a tmpfs mount)';
	try {
		statSync(path.join(MEMCG, 'memory.limit_in_bytes'));
		return null;
	} catch {
		return `no cgroup v1 memory hierarchy at ${MEMCG}`;
	}
}

testUnless(memcgReason(), test, '19,000 entries x 52 fds on one tmpfs file: planned as one file, within a 1 GiB memory cgroup', async () => {
	// tmpfs: the smallest readahead cap (128 KiB), so the most requests per fd window.
	const mnt = mkdtempSync(`/tmp/hotcache-amplify-${process.pid}-`);
	const cg = path.join(MEMCG, `hotcache-test-${process.pid}-${randomBytes(4).toString('hex')}`);
	spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', mnt]);
	mkdirSync(cg);
	try {
		writeFileSync(path.join(cg, 'memory.limit_in_bytes'), String(1 << 30));
		const file = path.join(mnt, 'data');
		writeFileSync(file, randomBytes(64 << 20));
		const entry = imageFile(file, file, [hot(0, (64 << 20) / 4096)], Array.from({ length: 52 }, (_, i) => i * 4096));
		const files = Array.from({ length: 19_000 }, (_, i) => ({ ...entry, path: `${mnt}${'/.'.repeat(i % 16)}/data` }));
		const out = await prefetcher('many-entries', encodeImage(image(files)), {}, cg);
		assert.match(out.status, /^hotcache: prefetch done: .* 1 files, 0 skipped$/, out.status || 'no status: the prefetcher died');
		const collapsed = out.events.find((e) => e.kind === 'collapsed');
		assert.equal([collapsed?.entries, collapsed?.files], [19_000, 1]);
		assert.is(out.events.filter((e) => e.kind === 'file').length, 1);
	} finally {
		rmdirSync(cg);
		spawnSync('umount', [mnt]);
		rmdirSync(mnt);
	}
});

test('padded 4 KiB paths on thousands of ranges: the path is recorded once, and the record stays small', async () => {
	const file = path.join(base, 'data');
	writeFile(file, 32 << 20);
	await evict(file);
	const ranges = Array.from({ length: 4096 }, (_, i) => hot(2 * i, 1));
	const padded = (i: number) => `${path.dirname(file)}${'/.'.repeat(2000 - i)}${'/'.repeat(i + 1)}${path.basename(file)}`;
	const img = encodeImage(image(Array.from({ length: 20 }, (_, i) => imageFile(file, padded(i), ranges))));
	assert.ok(img.length > 100_000 && img.length < 400_000, `a ${img.length}-byte image`);
	const out = await prefetcher('padded', img, { HOTCACHE_RECORD_MAX: '1' });
	assert.match(out.status, /^hotcache: prefetch done: 4096 pages fetched|^hotcache: prefetch done: 8\d{3} pages fetched/);
	assert.ok(out.record.length < 200_000, `a ${out.record.length}-byte record`);
	assert.is(out.record.split(file).length - 1, 1, 'the canonical path appears once');
	assert.not.ok(out.record.includes('/./'), 'no padded path in the record');
});

test.run();
