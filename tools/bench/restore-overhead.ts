// A measurement, not a test: how much the action script adds to `criu restore`, and how fast the
// prefetcher brought the evicted hot file back. Real CRIU in the test environment; rounds alternate
// between a plain restore, one with --action-script, and one with --action-script whose prefetcher is
// replaced by `true` (the script's own cost, without the prefetcher competing for the CPU), each from
// a fresh dump of the reader fixture with its files evicted. ANON_MIB makes the reader hold that much
// anonymous memory: a restore that takes longer before the restored init pid is known (post-restore,
// for a restore without namespaces). OTHER_SCRIPT (another version's hooks/action-script, in a tree
// where `npm ci` ran) adds a fourth variant, that script alone, side by side. Run as root after `npm ci`:
//   node dist/tools/bench/restore-overhead.js [ROUNDS] [ANON_MIB] [OTHER_SCRIPT]
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { RESTORE } from '../../contract/out/contract.js';
import { builtFile, projectRoot } from '../project.js';
import { runInTestenv } from '../testenv/index.js';

const rounds = Number(process.argv[2] ?? 8);
const anonMib = Number(process.argv[3] ?? 0);
const otherScript = process.argv[4] ? path.resolve(process.argv[4]) : null;
const work = mkdtempSync('/var/tmp/hotcache-measure-');
const pluginDir = path.dirname(builtFile('plugin'));
const reader = path.join(projectRoot, 'test/fixtures/out/reader');
const actionScript = builtFile('actionScript');

const script = `
set -eu
cd ${work}
export HOTCACHE_STATE_DIR=${work}/state
head -c $((256 << 20)) /dev/urandom >A
head -c $((8 << 20)) /dev/urandom >B
head -c 8 /dev/zero >counter
ms() { echo $(( $(date +%s%N) / 1000000 )); }
i=0
while [ $i -lt ${rounds} ]; do
	i=$((i + 1))
	for variant in plain hook script${otherScript ? ' other' : ''}; do
		rm -rf img && mkdir img
		setsid ${reader} -a ${work}/A -b ${work}/B -n ${work}/counter -m ${anonMib} -i 10 </dev/null >/dev/null 2>&1 &
		pid=$!
		sleep 1.5
		criu dump -t $pid -D img -L ${pluginDir} -o dump.log || { cat img/dump.log; exit 10; }
		dd if=A iflag=nocache count=0 status=none
		dd if=B iflag=nocache count=0 status=none
		hook="" node=node
		[ $variant = plain ] || hook="--action-script ${actionScript}"
		[ $variant = other ] && hook="--action-script ${otherScript}"
		[ $variant = script ] || [ $variant = other ] && node=true
		t0=$(date +%s%N)
		HOTCACHE_NODE=$node criu restore -D img -d -L ${pluginDir} $hook -o restore.log || { cat img/restore.log; exit 13; }
		t1=$(date +%s%N)
		echo "restore $variant $(( (t1 - t0) / 1000 ))"
		sleep 1
		kill $pid
	done
done
`;

const binds = otherScript ? [work, path.dirname(path.dirname(otherScript))] : [work];
const result = await runInTestenv(script, { binds, timeoutMs: 600_000 }).catch((err: unknown) => {
	rmSync(work, { recursive: true, force: true });
	throw err;
});
if (result.code !== 0) {
	process.stderr.write(result.stdout + result.stderr);
	process.exitCode = 1;
} else {
	const times: Record<string, number[]> = { plain: [], hook: [], script: [], ...(otherScript ? { other: [] } : {}) };
	for (const m of result.stdout.matchAll(/^restore (plain|hook|script|other) (\d+)$/gm)) times[m[1]!]!.push(Number(m[2]) / 1000);
	const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
	for (const [variant, xs] of Object.entries(times)) {
		process.stdout.write(`criu restore ${variant.padEnd(6)}: median ${median(xs).toFixed(1)} ms over ${xs.length} (${xs.map((x) => x.toFixed(1)).join(' ')})\n`);
	}
	const other = times.other ? `; by the other script alone: ${(median(times.other) - median(times.plain!)).toFixed(1)} ms` : '';
	process.stdout.write(`added by the hook: ${(median(times.hook!) - median(times.plain!)).toFixed(1)} ms; by the script alone: ${(median(times.script!) - median(times.plain!)).toFixed(1)} ms${other} (median differences)\n`);
	// The prefetchers' own summaries: how fast the evicted hot set came back.
	const restores = path.join(work, 'state', RESTORE.dir);
	for (const dir of readdirSync(restores)) {
		const record = path.join(restores, dir, RESTORE.files.record);
		if (!existsSync(record)) continue; // the `script` variant starts no prefetcher
		const lines = readFileSync(record, 'utf8').trim().split('\n');
		const summary = JSON.parse(lines[lines.length - 1]!) as { kind: string; fetched: number; seconds: number; throughput: number };
		// How long the prefetcher, its image read, waited for the restored init pid (and so its root).
		const root = lines.map((l) => JSON.parse(l) as { kind: string; waitedMs?: number }).find((e) => e.kind === 'root');
		const waited = root ? `, waited ${root.waitedMs} ms for the restored root` : '';
		if (summary.kind === 'summary') process.stdout.write(`prefetch ${dir}: ${summary.fetched} pages in ${summary.seconds.toFixed(3)} s, ${(summary.throughput / 1e6).toFixed(0)} MB/s${waited}\n`);
	}
}
rmSync(work, { recursive: true, force: true });
