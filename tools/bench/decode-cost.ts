// A measurement, not a test: what decoding an image at the range limit costs (time and peak RSS).
// Writes an image of one file with LIMITS.rangesPerImage one-page ranges, then decodes it in a fresh
// Node (so that the peak is the decoder's alone) under /usr/bin/time; with OTHER_PROJECT_DIR (another
// version's tree, after its `npm ci`), its decoder too, alternately. Run after `npm ci`:
//   node dist/tools/bench/decode-cost.js [ROUNDS] [OTHER_PROJECT_DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeImage, Hotness, LIMITS, type PageRange } from '../../proto/image.js';

const rounds = Number(process.argv[2] ?? 3);
const decoders: [string, string][] = [['this build', new URL('../../proto/image.js', import.meta.url).href]];
if (process.argv[3]) decoders.push([process.argv[3], pathToFileURL(path.resolve(process.argv[3], 'dist/proto/image.js')).href]);
const n = LIMITS.rangesPerImage;
const ranges: PageRange[] = Array.from({ length: n }, (_, i) => ({ start: 2 * i, count: 1, hotness: Hotness.Hot }));
const identity = { size: 2 * n * 4096, mtimeNs: 0n, inode: 0n, dev: 0n, handle: new Uint8Array(), handleType: 0 };
const capture = { host: 'h', kernel: 'k', timeNs: 0n, backend: 'kpageflags', lru: 'classic', hotWarmExact: true, pageSize: 4096, durationMs: 0, rootPid: 1, ownRoot: false, partial: false, partialReason: '', tool: 'measure' } as const;
const dir = mkdtempSync('/var/tmp/hotcache-decode-');
const file = path.join(dir, 'hotcache.img');
try {
	writeFileSync(file, encodeImage({ version: 1, capture, files: [{ path: '/f', identity, fds: [], mapped: false, sizePages: 2 * n, dirtySynced: false, ranges }] }));
	for (let i = 0; i < rounds; i++) {
		for (const [name, module] of decoders) {
			const decoder = `const { decodeImage } = await import(${JSON.stringify(module)}); const buf = (await import('node:fs')).readFileSync(${JSON.stringify(file)}); const t0 = performance.now(); const image = decodeImage(buf); process.stdout.write(\`${name}: \${image.files[0].ranges.length} ranges, \${buf.length} bytes: decoded in \${((performance.now() - t0) / 1000).toFixed(2)} s\`);`;
			const r = spawnSync('/usr/bin/time', ['-f', ', peak RSS %M KiB', process.execPath, '--input-type=module', '-e', decoder], { encoding: 'utf8' });
			process.stdout.write(r.stdout + r.stderr);
		}
	}
} finally {
	rmSync(dir, { recursive: true, force: true });
}
