// A measurement, not a test: how long the action script takes per action, outside criu (CRIU waits
// for it at every action). Each script given (default: the built one) runs ROUNDS times per action,
// the scripts taking turns, and the medians are printed side by side. pre-restore checks and copies a
// small valid image and starts `true` instead of the prefetcher, in a fresh state directory each time;
// post-restore finds its restore's directory and its init-pid already written; pre-dump is ignored.
// The configuration file holds a comment and three settings.
// To compare with another version, give its script inside a checkout or an installed one (either finds
// its files beside it), or a link to one:
//   node dist/tools/bench/action-script.js [--rounds N] [SCRIPT...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeImage, IMAGE_FILE } from '../../proto/image.js';
import { restoreKeyOf } from '../../hooks/restore-key.js';
import { builtFile } from '../project.js';

const { values, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '100' } }, allowPositionals: true });
const rounds = Number(values.rounds);
const scripts = positionals.length ? positionals.map((s) => path.resolve(s)) : [builtFile('actionScript')];
const work = mkdtempSync('/var/tmp/hotcache-bench-script-');

const imageDir = path.join(work, 'img');
mkdirSync(imageDir);
writeFileSync(
	path.join(imageDir, IMAGE_FILE),
	encodeImage({
		version: 1,
		capture: { host: 'h', kernel: 'k', timeNs: 0n, backend: 'kpageflags', lru: 'classic', hotWarmExact: true, pageSize: 4096, durationMs: 0, rootPid: 1, ownRoot: false, partial: false, partialReason: '', tool: 'bench' },
		files: [{ path: '/f', identity: { size: 4096, mtimeNs: 0n, inode: 1n, dev: 1n, handle: new Uint8Array(), handleType: 0 }, fds: [], mapped: false, sizePages: 1, dirtySynced: false, ranges: [] }],
	}),
);
// The script keys the restore by its parent, this process: post-restore finds that directory.
const key = restoreKeyOf(process.pid)!;
const conf = path.join(work, 'hotcache.conf');
writeFileSync(conf, '# restore side\nHOTCACHE_WORKERS=8\nHOTCACHE_BANDWIDTH=0\nHOTCACHE_ACTIVATE=1\n');
const env = { ...process.env, HOTCACHE_CONFIG: conf, HOTCACHE_NODE: 'true', CRTOOLS_IMAGE_DIR: imageDir, CRTOOLS_INIT_PID: String(process.pid) };

function runOnce(script: string, action: string, state: string): number {
	const t0 = process.hrtime.bigint();
	const r = spawnSync(script, [], { env: { ...env, CRTOOLS_SCRIPT_ACTION: action, HOTCACHE_STATE_DIR: state }, encoding: 'utf8' });
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	if (r.status !== 0) throw new Error(`${script} ${action} exited ${r.status}: ${r.stdout}${r.stderr}`);
	return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const times: Record<string, number[][]> = { 'pre-restore': [], 'post-restore': [], 'pre-dump': [] };
try {
	for (const action of Object.keys(times)) times[action] = scripts.map(() => []);
	const steady = path.join(work, 'steady');
	for (const script of scripts) runOnce(script, 'pre-restore', steady);
	for (let round = 0; round < rounds; round++) {
		scripts.forEach((script, i) => {
			times['pre-restore']![i]!.push(runOnce(script, 'pre-restore', path.join(work, `state-${i}-${round}`)));
			times['post-restore']![i]!.push(runOnce(script, 'post-restore', steady));
			times['pre-dump']![i]!.push(runOnce(script, 'pre-dump', steady));
		});
	}
	process.stdout.write(`medians over ${rounds} rounds, ms (restore key ${key}):\n`);
	for (const [action, perScript] of Object.entries(times)) {
		process.stdout.write(`${action.padEnd(13)} ${perScript.map((xs, i) => `${median(xs).toFixed(2)} (${path.relative(process.cwd(), scripts[i]!) || scripts[i]})`).join('  ')}\n`);
	}
} finally {
	rmSync(work, { recursive: true, force: true });
}
