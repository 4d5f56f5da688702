// A large hot set on fast local storage: how fast the prefetch brings an evicted file back, next to a
// plain `cat` of the same bytes, in alternating rounds. The prefetch is `hotcache prefetch` as an
// operator runs it (its own Node, pool sized for its workers), on an image that names the whole file
// hot; its rate is taken from its record (the fetch phase, and the whole run with the second read
// that activates the pages).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../hooks/native.js';
import { encodeImage, Hotness } from '../../proto/image.js';
import { projectRoot } from '../project.js';
import { digestRecord, type RecordDigest } from './restore-rounds.js';

export interface LocalRound {
	round: number;
	/** `cat FILE >/dev/null`, wall time. */
	catSeconds: number;
	/** The prefetch's whole run (opening, planning, fetching, activating), and the same without the activation. */
	fetchSeconds: number;
	runSeconds: number;
	record: RecordDigest;
}

async function evict(file: string): Promise<void> {
	const fd = openSync(file, 'r');
	try {
		await native().fadvise(fd, 0, 0, native().advice.DONTNEED);
	} finally {
		closeSync(fd);
	}
}

async function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
	const devNull = openSync('/dev/null', 'w');
	const t0 = performance.now();
	try {
		const child = spawn(command, args, { stdio: ['ignore', devNull, 'inherit'], env });
		const [code] = (await once(child, 'exit')) as [number | null];
		if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}`);
	} finally {
		closeSync(devNull);
	}
	return (performance.now() - t0) / 1000;
}

function writeImage(file: string, dir: string): void {
	const st = statSync(file, { bigint: true });
	const pages = Math.ceil(Number(st.size) / 4096);
	mkdirSync(dir);
	const capture = { host: os.hostname(), kernel: os.release(), timeNs: 0n, backend: 'kpageflags' as const, lru: 'classic' as const, hotWarmExact: true, pageSize: 4096, durationMs: 0, rootPid: 1, ownRoot: false, partial: false, partialReason: '', tool: 'bench' };
	const identity = { size: Number(st.size), mtimeNs: st.mtimeNs, inode: st.ino, dev: st.dev, handle: new Uint8Array(), handleType: 0 };
	writeFileSync(path.join(dir, 'hotcache.img'), encodeImage({ version: 1, capture, files: [{ path: file, identity, fds: [{ pid: 1, fd: 3, offset: 0 }], mapped: false, sizePages: pages, dirtySynced: true, ranges: [{ start: 0, count: pages, hotness: Hotness.Hot }] }] }));
}

export async function runLocalRounds(bytes: number, rounds: number, scratchParent: string): Promise<LocalRound[]> {
	const work = mkdtempSync(path.join(scratchParent, 'hotcache-bench-local-'));
	try {
		const file = path.join(work, 'data');
		const fd = openSync(file, 'w');
		const block = Buffer.alloc(8 << 20, 0x5a);
		for (let done = 0; done < bytes; done += block.length) writeFileSync(fd, block);
		closeSync(fd);
		await timed('sync', []);
		writeImage(file, path.join(work, 'img'));
		const out: LocalRound[] = [];
		for (let round = 1; round <= rounds; round++) {
			let catSeconds = 0;
			let prefetch: Omit<LocalRound, 'round' | 'catSeconds'> | null = null;
			for (const which of round % 2 ? ['cat', 'prefetch'] : ['prefetch', 'cat']) {
				await evict(file);
				if (which === 'cat') {
					catSeconds = await timed('cat', [file]);
					continue;
				}
				const record = path.join(work, `record-${round}.jsonl`);
				await timed(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'prefetch', '--json', '--record', record, path.join(work, 'img')], { ...process.env, HOTCACHE_STATE_DIR: path.join(work, 'state') });
				const digest = digestRecord(readFileSync(record, 'utf8'));
				const runSeconds = Number(digest.summary?.seconds ?? NaN);
				prefetch = { fetchSeconds: runSeconds - digest.activateMs / 1000, runSeconds, record: digest };
			}
			out.push({ round, catSeconds, ...prefetch! });
		}
		return out;
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
}
