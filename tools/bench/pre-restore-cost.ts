// A measurement, not a test: the time the action script takes at pre-restore, outside CRIU, with
// `true` started instead of the prefetcher (its own cost only), for a small image and a 64 MiB one,
// given as CRIU gives it (in an image directory on the state directory's file system: a hard link; on
// tmpfs: a copy) and as the plugin gives it (an open fd). With a second script (e.g. an older version:
// `git show main:hooks/action-script >/tmp/old && chmod +x /tmp/old`), both run alternately, side by
// side. Run as root after `npm ci`:
//   node dist/tools/bench/pre-restore-cost.js [ROUNDS] [OTHER_SCRIPT]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HEADER_BYTES, IMAGE_FILE, LIMITS, MAGIC } from '../../proto/image.js';
import { builtFile } from '../project.js';

const rounds = Number(process.argv[2] ?? 20);
const scripts: [string, string][] = [['this', builtFile('actionScript')]];
if (process.argv[3]) scripts.push(['other', path.resolve(process.argv[3])]);

const disk = mkdtempSync('/var/tmp/hotcache-pre-restore-');
const shm = mkdtempSync('/dev/shm/hotcache-pre-restore-');
/** A framed image of `bytes` payload bytes: the script checks the frame only (the prefetcher is not run). */
function framed(bytes: number): Buffer {
	const header = Buffer.alloc(HEADER_BYTES);
	MAGIC.copy(header);
	header.writeUInt32LE(bytes, MAGIC.length);
	return Buffer.concat([header, Buffer.alloc(bytes)]);
}
const images = { small: framed(200), '64 MiB': framed(LIMITS.imageBytes) };

type Case = { name: string; dir: string; fd: boolean };
const cases: Case[] = [];
for (const [size, buf] of Object.entries(images)) {
	for (const [where, base] of [['disk', disk], ['tmpfs', shm]] as const) {
		const dir = path.join(base, size.replace(/\W/g, ''));
		mkdirSync(dir);
		writeFileSync(path.join(dir, IMAGE_FILE), buf);
		cases.push({ name: `${size} image, ${where === 'disk' ? 'same file system' : 'from tmpfs'}`, dir, fd: false });
		if (where === 'disk') cases.push({ name: `${size} image, an fd from the plugin`, dir, fd: true });
	}
}

try {
	const times = new Map<string, number[]>();
	for (let round = 0; round < rounds; round++) {
		for (const c of cases) {
			for (const [label, script] of scripts) {
				if (c.fd && label === 'other') continue; // an older script may not know HOTCACHE_IMAGE_FD
				const state = path.join(disk, `state-${label}`);
				// A fresh parent shell per run (a new restore directory), timed from inside it.
				const open = c.fd ? `exec 3<"${c.dir}/${IMAGE_FILE}"; export HOTCACHE_IMAGE_FD=3; ` : '';
				const out = execFileSync('/bin/sh', ['-c', `${open}t0=$(date +%s%N); CRTOOLS_SCRIPT_ACTION=pre-restore "$1" >/dev/null; t1=$(date +%s%N); echo $(((t1 - t0) / 1000))`, 'sh', script], {
					encoding: 'utf8',
					env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_CONFIG: '/nonexistent', HOTCACHE_NODE: 'true', CRTOOLS_IMAGE_DIR: c.fd ? '/nonexistent' : c.dir },
				});
				const key = `${c.name}: ${label}`;
				times.set(key, [...(times.get(key) ?? []), Number(out) / 1000]);
			}
		}
		rmSync(path.join(disk, 'state-this'), { recursive: true, force: true });
		rmSync(path.join(disk, 'state-other'), { recursive: true, force: true });
	}
	const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
	for (const [key, xs] of times) process.stdout.write(`${key.padEnd(50)} median ${median(xs).toFixed(1)} ms over ${xs.length} (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})\n`);
} finally {
	rmSync(disk, { recursive: true, force: true });
	rmSync(shm, { recursive: true, force: true });
}
