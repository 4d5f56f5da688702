// A measurement, not a test: the time to open many small files inside a root as the prefetcher does
// (native openInRoot, 16 in flight), this build side by side with another one (e.g. a clone of an
// older commit, after its `npm ci`). Run after `npm ci`:
//   node dist/tools/bench/open-cost.js [FILES] [ROUNDS] [OTHER_PROJECT_DIR]
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { native, type NativeAddon } from '../../hooks/native.js';

const count = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const builds: [string, NativeAddon][] = [['this build', native()]];
if (process.argv[4]) builds.push([`${process.argv[4]}`, createRequire(import.meta.url)(path.resolve(process.argv[4], 'build/Release/hotcache_native.node')) as NativeAddon]);

const dir = mkdtempSync('/var/tmp/hotcache-open-');
const page = Buffer.alloc(4096, 1);
const names = Array.from({ length: count }, (_, i) => `/f${i}`);
for (const name of names) writeFileSync(path.join(dir, name), page);
const root = openSync(dir, 'r');

async function openAll(addon: NativeAddon): Promise<number> {
	let next = 0;
	const t0 = performance.now();
	const worker = async (): Promise<void> => {
		while (next < names.length) {
			const opened = await addon.openInRoot(root, names[next++]!, 0);
			if (opened.fd >= 0) closeSync(opened.fd);
		}
	};
	await Promise.all(Array.from({ length: 16 }, worker));
	return (performance.now() - t0) / 1000;
}

try {
	const times = new Map<string, number[]>(builds.map(([name]) => [name, []]));
	for (let i = 0; i < rounds; i++) for (const [name, addon] of builds) times.get(name)!.push(await openAll(addon));
	for (const [name, xs] of times) process.stdout.write(`${name}: ${count} files, 16 in flight: ${xs.map((x) => x.toFixed(2)).join(' ')} s\n`);
} finally {
	closeSync(root);
	rmSync(dir, { recursive: true, force: true });
}
