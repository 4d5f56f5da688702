// The prefetch engine's benchmark (a measurement, not a test): three comparisons, each side by side
// in one run, variants interleaved round by round.
//   1. sequential re-reader of 1 GiB on a 117 MB/s link, prefetch started at restore: what it read
//      in the 10 s after the restore, against CRIU alone;
//   2. scattered reader (random 4 KiB reads, 90% in the first quarter of 1 GiB) on a 117 MB/s,
//      3000 IOPS link: against CRIU alone and an oracle that reads the hot quarter at restore;
//   3. a large hot set on the fast local disk: the prefetch's rate against `cat` of the same bytes.
// Run as root after `npm ci`:
//   node dist/tools/bench/engine.js [--rounds N] [--only seq,scatter,local] [--json FILE]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { skipReason } from '../testenv/index.js';
import { createBlkioLink, whyNoBlkio } from './blkio-link.js';
import { buildWorkloads } from './build.js';
import { runLocalRounds, type LocalRound } from './local-hot-set.js';
import { runRestoreRounds, type RestoreResult, type RestoreScenario } from './restore-rounds.js';
import { spread as spreadOf } from './stats.js';

const GiB = 2 ** 30;
const MB = 1e6;
/** Scratch files live on the throttled disk. */
const SCRATCH = '/var/tmp';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, only: { type: 'string', default: 'seq,scatter,local' }, json: { type: 'string' } } });
const rounds = Number(values.rounds);
const only = new Set(values.only!.split(','));

function check(): void {
	const why = skipReason() ?? whyNoBlkio();
	if (why) throw new Error(`cannot run the benchmark here: ${why}`);
	buildWorkloads();
}

/** "median (min-max)" with `digits` decimals. */
function spread(xs: number[], digits = 2): string {
	if (xs.length === 0) return 'n/a';
	const s = spreadOf(xs);
	return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
}

/** Runs `scenario` behind a link of `bps` bytes and `iops` requests per second (0: none). */
async function throttled(bps: number, iops: number, scenario: RestoreScenario): Promise<RestoreResult[]> {
	const link = createBlkioLink(SCRATCH, bps, iops);
	try {
		return await runRestoreRounds(scenario, link, SCRATCH);
	} finally {
		await link.remove();
	}
}

/** Per round, `a`'s bytes over `b`'s. */
function ratios(results: RestoreResult[], a: string, b: string): number[] {
	const out: number[] = [];
	for (let r = 1; r <= rounds; r++) {
		const x = results.find((e) => e.round === r && e.variant === a);
		const y = results.find((e) => e.round === r && e.variant === b);
		if (x && y && y.bytes > 0) out.push(x.bytes / y.bytes);
	}
	return out;
}

function megabytes(results: RestoreResult[], variant: string): number[] {
	return results.filter((e) => e.variant === variant).map((e) => e.bytes / MB);
}

function report(title: string, results: RestoreResult[], variants: string[], pairs: [string, string][]): string[] {
	const lines = [`${title}`];
	for (const v of variants) {
		lines.push(`  ${v.padEnd(9)} MB read in the window: ${spread(megabytes(results, v), 0)}   rounds: ${megabytes(results, v).map((x) => x.toFixed(0)).join(' ')}`);
		const mine = results.filter((e) => e.variant === v);
		const at = (s: number) => spread(mine.map((e) => (e.timeline[s - 1] ?? NaN) / MB), 0);
		lines.push(`  ${''.padEnd(9)} by +1 s ${at(1)}, +3 s ${at(3)}, +5 s ${at(5)}, +8 s ${at(8)}, +9 s ${at(9)}; resident before restore: ${mine.map((e) => e.residentBefore).join(' ')} pages`);
	}
	for (const [a, b] of pairs) lines.push(`  ${a} / ${b}: ${spread(ratios(results, a, b))}   rounds: ${ratios(results, a, b).map((x) => x.toFixed(2)).join(' ')}`);
	const digests = results.filter((e) => e.record).map((e) => e.record!);
	for (const phase of ['resume', 'hot', 'warm', 'resident']) {
		const ps = digests.map((d) => d.phases.find((p) => p.phase === phase)).filter((p) => p !== undefined);
		if (ps.length) lines.push(`  prefetch ${phase.padEnd(8)}: requests ${spread(ps.map((p) => p.requests), 0)}, MB ${spread(ps.map((p) => (p.fetched * 4096) / MB), 0)}, MB/s ${spread(ps.map((p) => p.rate / MB), 0)}`);
	}
	if (digests.length) lines.push(`  prefetch left out (pages): ${spread(digests.map((d) => Number(d.summary?.leftOutPages ?? 0)), 0)}; saw the process reading: ${spread(digests.map((d) => d.readingStarts), 0)} times`);
	const started = results.filter((e) => e.record);
	if (started.length) lines.push(`  prefetcher started ${spread(started.map((e) => e.record!.startMs - e.restoredMs), 0)} ms after the restore returned, first request ${spread(started.map((e) => (e.record!.firstRequestMs ?? NaN) - e.restoredMs), 0)} ms`);
	return lines;
}

function reportLocal(rs: LocalRound[], bytes: number): string[] {
	const rate = (s: number) => bytes / s / MB;
	return [
		`3. large hot set (${bytes / GiB} GiB) on the local disk, prefetch vs cat`,
		`  cat                      MB/s: ${spread(rs.map((r) => rate(r.catSeconds)), 0)}`,
		`  prefetch, fetching        MB/s: ${spread(rs.map((r) => rate(r.fetchSeconds)), 0)}`,
		`  prefetch, with activation MB/s: ${spread(rs.map((r) => rate(r.runSeconds)), 0)}`,
		`  prefetch (fetching) / cat: ${spread(rs.map((r) => r.catSeconds / r.fetchSeconds))}   rounds: ${rs.map((r) => (r.catSeconds / r.fetchSeconds).toFixed(2)).join(' ')}`,
		`  prefetch (with activation) / cat: ${spread(rs.map((r) => r.catSeconds / r.runSeconds))}`,
	];
}

async function main(): Promise<void> {
	check();
	const out: Record<string, unknown> = { rounds, host: os.hostname(), loadBefore: os.loadavg() };
	const lines: string[] = [];
	if (only.has('seq')) {
		const seq = await throttled(117 * MB, 0, {
			name: 'seq', workload: ['reread'], fileBytes: GiB, warmCache: true, warmSeconds: 2,
			variants: ['criu', 'hotcache'], oracleBytes: 0, windowSeconds: 10, rounds,
		});
		out.seq = seq;
		lines.push(...report('1. sequential re-reader, 1 GiB, 117 MB/s, 10 s after restore', seq, ['criu', 'hotcache'], [['hotcache', 'criu']]));
	}
	if (only.has('scatter')) {
		const scatter = await throttled(117 * MB, 3000, {
			name: 'scatter', workload: ['scatter', '-H', '25', '-s', '90'], fileBytes: GiB, warmCache: false, warmSeconds: 10,
			variants: ['criu', 'hotcache', 'oracle'], oracleBytes: GiB / 4, windowSeconds: 10, rounds,
		});
		out.scatter = scatter;
		lines.push(...report('2. scattered reader, 1 GiB (90% of reads in the first quarter), 117 MB/s + 3000 IOPS, 10 s after restore', scatter, ['criu', 'hotcache', 'oracle'], [['hotcache', 'criu'], ['hotcache', 'oracle'], ['oracle', 'criu']]));
	}
	if (only.has('local')) {
		const local = await runLocalRounds(2 * GiB, rounds, SCRATCH);
		out.local = local;
		lines.push(...reportLocal(local, 2 * GiB));
	}
	out.loadAfter = os.loadavg();
	lines.push(`load average before ${(out.loadBefore as number[]).map((x) => x.toFixed(1)).join(' ')}, after ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
	process.stdout.write(lines.join('\n') + '\n');
	if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 1));
}

main().catch((err: unknown) => {
	process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
	process.exitCode = 1;
});
