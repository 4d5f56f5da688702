// The outside prefetchers the benchmark compares hotcache with, as their users run them: one thread
// of pread over a list of pages, in the list's order (file order), nothing more. Started early on the
// destination with its list loaded, it says "ready" and waits for one line on stdin, the go (sent at
// the freeze or at the restore); each span it has read is appended to OUT as a JSON line (a PageSpan)
// at once, so a run that ends first still tells what was prefetched. Its input closing without a go
// ends it.
//
//   node dist/tools/bench/baseline-prefetch.js LIST.json OUT      (LIST: a BaselineList)
import { appendFileSync, closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { PageSpan } from './metrics.js';

/** What the prefetcher reads: spans of pages of `pageSize` bytes, in this order. */
export interface BaselineList {
	pageSize: number;
	spans: PageSpan[];
}

/** Largest single read: a span longer than this is read in pieces of it. */
const PIECE = 1 << 20;

function readSpans({ pageSize, spans }: BaselineList, out: string): void {
	const buf = Buffer.alloc(PIECE);
	for (const span of spans) {
		let fd: number;
		try {
			fd = openSync(span.path, 'r');
		} catch {
			continue; // Gone or unreadable: a prefetcher skips it.
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

async function main(argv: string[]): Promise<number> {
	const [list, out] = argv;
	if (!list || !out) {
		process.stderr.write('usage: baseline-prefetch LIST.json OUT\n');
		return 2;
	}
	const spans = JSON.parse(readFileSync(list, 'utf8')) as BaselineList;
	process.stdout.write('ready\n');
	for await (const _go of createInterface({ input: process.stdin })) {
		readSpans(spans, out);
		return 0;
	}
	return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
