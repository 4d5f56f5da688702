// The two prefetchers the benchmark compares hotcache with, as their users run them: one thread of
// pread over a list of pages, in file order, nothing more. `all`: every page resident at the dump (what
// a vmtouch or pgfincore user replays at restore); `hot`: the hot pages (the seed study's method,
// started at the freeze). The list comes from the dump's hotcache.img. Every span read is appended to
// the output as a JSON line (a PageSpan) as soon as it is read, so a run that ends first still tells
// what was prefetched.
//
//   node dist/tools/bench/baseline-prefetch.js IMAGE_DIR all|hot OUT
import { appendFileSync, closeSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, Hotness, IMAGE_FILE, type HotcacheImage } from '../../proto/image.js';
import type { PageSpan } from './metrics.js';

type Selection = 'all' | 'hot';

/** Largest single read: a span longer than this is read in pieces of it. */
const PIECE = 1 << 20;

/** The selected pages of each file as maximal runs of consecutive pages, in file order. */
function spansToRead(image: HotcacheImage, selection: Selection): PageSpan[] {
	const out: PageSpan[] = [];
	for (const file of image.files) {
		const ranges = file.ranges.filter((r) => selection === 'all' || r.hotness === Hotness.Hot).sort((a, b) => a.start - b.start);
		for (const r of ranges) {
			const last = out[out.length - 1];
			if (last && last.path === file.path && last.start + last.count >= r.start) {
				last.count = Math.max(last.count, r.start + r.count - last.start);
			} else out.push({ path: file.path, start: r.start, count: r.count });
		}
	}
	return out;
}

function readSpans(spans: PageSpan[], pageSize: number, out: string): void {
	const buf = Buffer.alloc(PIECE);
	for (const span of spans) {
		let fd: number;
		try {
			fd = openSync(span.path, 'r');
		} catch {
			continue; // Gone or unreadable: a prefetcher skips it, as hotcache's does.
		}
		try {
			const end = (span.start + span.count) * pageSize;
			for (let pos = span.start * pageSize; pos < end; pos += PIECE) {
				if (readSync(fd, buf, 0, Math.min(PIECE, end - pos), pos) === 0) break;
			}
		} finally {
			closeSync(fd);
		}
		appendFileSync(out, JSON.stringify(span) + '\n');
	}
}

function main(argv: string[]): number {
	const [imageDir, selection, out] = argv;
	if (!imageDir || (selection !== 'all' && selection !== 'hot') || !out) {
		process.stderr.write('usage: baseline-prefetch IMAGE_DIR all|hot OUT\n');
		return 2;
	}
	const image = decodeImage(readFileSync(path.join(imageDir, IMAGE_FILE)));
	readSpans(spansToRead(image, selection), image.capture.pageSize, out);
	return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
