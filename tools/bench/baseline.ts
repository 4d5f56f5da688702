// The outside prefetchers of a run (variants resident, reference, oracle): their page lists, and the
// prefetcher (baseline-prefetch.ts) started on the destination ahead of the move, waiting for its go.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Hotness, type HotcacheImage } from '../../proto/image.js';
import { projectRoot } from '../project.js';
import type { BaselineList } from './baseline-prefetch.js';
import type { PageSpan } from './metrics.js';

const PREFETCHER = path.join(projectRoot, 'dist/tools/bench/baseline-prefetch.js');
const READY_MS = 60_000;

/**
 * The pages of a capture of the running process as one pread thread reads them: every resident page,
 * or the hot ones, of the files under `under` (the shared storage: not its program or its progress
 * file), as maximal runs of consecutive pages, file by file, in file order.
 */
export function spansFromCapture(image: HotcacheImage, pages: 'resident' | 'hot', under: string): PageSpan[] {
	const out: PageSpan[] = [];
	for (const file of image.files) {
		if (!file.path.startsWith(`${under}/`)) continue;
		const ranges = file.ranges.filter((r) => pages === 'resident' || r.hotness === Hotness.Hot).sort((a, b) => a.start - b.start);
		for (const r of ranges) {
			const last = out[out.length - 1];
			if (last && last.path === file.path && last.start + last.count >= r.start) {
				last.count = Math.max(last.count, r.start + r.count - last.start);
			} else out.push({ path: file.path, start: r.start, count: r.count });
		}
	}
	return out;
}

export class BaselinePrefetcher {
	private constructor(
		private readonly child: ChildProcess,
		readonly out: string,
	) {}

	/**
	 * Writes `list` to `dir`/list.json and starts the prefetcher with `prefix` (the command that runs
	 * on the destination); resolves once it has loaded the list.
	 */
	static async start(prefix: string[], list: BaselineList, dir: string): Promise<BaselinePrefetcher> {
		const file = path.join(dir, 'baseline-list.json');
		const out = path.join(dir, 'baseline-spans.jsonl');
		writeFileSync(file, JSON.stringify(list));
		const child = spawn(prefix[0]!, [...prefix.slice(1), process.execPath, PREFETCHER, file, out], { stdio: ['pipe', 'pipe', 'pipe'] });
		let stderr = '';
		child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
		const ready = new Promise<void>((resolve, reject) => {
			createInterface({ input: child.stdout! }).on('line', (line) => line === 'ready' && resolve());
			child.on('exit', (code) => reject(new Error(`the baseline prefetcher exited (${code}) before it was ready: ${stderr.trim()}`)));
			setTimeout(() => reject(new Error(`the baseline prefetcher was not ready within ${READY_MS / 1000} s`)), READY_MS).unref();
		});
		const prefetcher = new BaselinePrefetcher(child, out);
		try {
			await ready;
		} catch (err) {
			prefetcher.kill();
			throw err;
		}
		return prefetcher;
	}

	go(): void {
		this.child.stdin!.write('go\n');
	}

	kill(): void {
		this.child.kill('SIGKILL');
	}

	/** Kills it (done or not) and returns what it had read. */
	stop(): PageSpan[] {
		this.kill();
		if (!existsSync(this.out)) return [];
		return readFileSync(this.out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as PageSpan);
	}
}
