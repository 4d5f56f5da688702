// Rounds of checkpoint and restore with real CRIU in the test environment, on a throttled link: a
// workload reads a file, is dumped with the hotcache plugin, and is then restored once per variant
// from the same images, its file evicted before each: CRIU alone, CRIU with the action script (the
// prefetch starts at pre-restore), and an oracle that reads a known part of the file sequentially as
// the restore starts. What the workload read in the window after `criu restore` returned is read
// from its progress mapping (tools/bench/workloads/progress.h). The workload, criu and everything a variant starts run in the
// throttle's blkio group; each variant runs in a pid namespace of its own, so the restored process,
// the prefetcher and the oracle all end with it.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project.js';
import { runInTestenv } from '../testenv/index.js';
import type { BlkioLink } from './blkio-link.js';
import { workloadBin } from './build.js';

export type Variant = 'criu' | 'hotcache' | 'oracle';

export interface RestoreScenario {
	/** For the record files' names. */
	name: string;
	/** The workload (tools/bench/workloads/) and its arguments after -f FILE -p PROGRESS. */
	workload: ['reread' | 'scatter', ...string[]];
	/** Bytes of the file the workload reads. */
	fileBytes: number;
	/** Before the dump: read the whole file into the cache first (unthrottled), then let the workload run this long. */
	warmCache: boolean;
	warmSeconds: number;
	variants: Variant[];
	/** The oracle reads the file's first `oracleBytes` sequentially. */
	oracleBytes: number;
	windowSeconds: number;
	rounds: number;
	/** Added to the prefetcher's environment (HOTCACHE_*). */
	env?: Record<string, string>;
}

/** What the prefetcher's record says of a run: its phases and summary. */
export interface RecordDigest {
	phases: { phase: string; requests: number; pages: number; fetched: number; seconds: number; rate: number }[];
	summary: Record<string, unknown> | null;
	/** How often it saw the process start reading. */
	readingStarts: number;
	/** When it started and sent its first request (ms since the epoch). */
	startMs: number;
	firstRequestMs: number | null;
	/** The second read of the hot pages. */
	activateMs: number;
}

export interface RestoreResult {
	round: number;
	variant: Variant;
	/** Bytes the workload read in the window. */
	bytes: number;
	/** The window's real length. */
	ms: number;
	/** Bytes read by the end of each second of the window. */
	timeline: number[];
	/** Pages of the file resident just before `criu restore` (0: evicted). */
	residentBefore: number;
	/** When `criu restore` returned (ms since the epoch): the window's start. */
	restoredMs: number;
	/** The prefetcher's record, for the hotcache variant. */
	record: RecordDigest | null;
}

export function digestRecord(text: string): RecordDigest {
	const events = text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
	return {
		phases: events.filter((e) => e.kind === 'phase') as unknown as RecordDigest['phases'],
		summary: events.find((e) => e.kind === 'summary') ?? null,
		readingStarts: events.filter((e) => e.kind === 'reading' && e.reading === true).length,
		startMs: Date.parse(String(events[0]?.t)),
		firstRequestMs: events.some((e) => e.kind === 'chunk') ? Date.parse(String(events.find((e) => e.kind === 'chunk')!.t)) : null,
		activateMs: Number(events.find((e) => e.kind === 'activate')?.ms ?? 0),
	};
}

const pluginDir = path.join(projectRoot, 'criu-plugin/out');
const actionScript = path.join(projectRoot, 'hooks/action-script');
const BLKIO_MOUNT = '/run/hotcache-blkio';

/** Prints how many pages of a file are resident (util-linux's fincore is not in the minimal root file system). */
const RESIDENT_HELPER = `
import { openSync } from 'node:fs';
const { native } = await import(${JSON.stringify(path.join(projectRoot, 'dist/hooks/native.js'))});
console.log((await native().cachestat(openSync(process.argv[2], 'r'), 0, 0)).cache);
`;

/** The variants of round `round`, rotated so that none always runs first (or after the same one). */
export function rotation<T>(items: readonly T[], round: number): T[] {
	const k = round % items.length;
	return [...items.slice(k), ...items.slice(0, k)];
}

/** One variant, as pid 1 of its own pid namespace: $1 variant, $2 round. */
function variantScript(s: RestoreScenario, work: string, throttle: BlkioLink): string {
	const env = Object.entries(s.env ?? {}).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`).join('\n');
	return `
set -eu
v=$1 round=$2
cd ${work}
echo $$ >${BLKIO_MOUNT}/${throttle.name}/tasks
export HOTCACHE_STATE_DIR=${work}/state-$round-$v HOTCACHE_RECORD=${work}/records/$round-$v.jsonl
${env}
hook=
[ "$v" = hotcache ] && hook="--action-script ${actionScript}"
# Whatever starts from here (the prefetcher and its threads) takes pids far above the restored ones.
echo 100000 >/proc/sys/kernel/ns_last_pid
echo "RESIDENT $round $v $(node ${work}/resident.mjs data)"
[ "$v" = oracle ] && dd if=data of=/dev/null bs=1M count=${Math.round(s.oracleBytes / (1 << 20))} status=none &
criu restore -D img -d -L ${pluginDir} $hook -o restore-$round-$v.log || { cat img/restore-$round-$v.log; exit 13; }
pid=$(pgrep -f "${path.join(workloadBin, s.workload[0])} " | head -1)
grep -q ":blkio:/${throttle.name}$" /proc/$pid/cgroup || { echo "the restored workload is not behind the throttle"; cat /proc/$pid/cgroup; exit 14; }
# Bytes read so far: the progress file's second u64 (tools/bench/workloads/progress.h).
count() { od -An -t u8 -j 8 -N8 progress | tr -d ' '; }
c0=$(count)
t0=$(date +%s%N)
echo "RESTORED $round $v $t0"
# The workload's progress each second (cumulative), then over the whole window.
timeline=
i=0
while [ $i -lt ${s.windowSeconds} ]; do
	i=$((i + 1))
	ms=$(( i * 1000 - ($(date +%s%N) - t0) / 1000000 ))
	[ $ms -gt 0 ] && sleep $((ms / 1000)).$(printf %03d $((ms % 1000)))
	timeline="$timeline $(( $(count) - c0 ))"
done
c1=$(count)
t1=$(date +%s%N)
echo "TIMELINE $round $v$timeline"
echo "RESULT $round $v $((c1 - c0)) $(( (t1 - t0) / 1000000 ))"
`;
}

function roundsScript(s: RestoreScenario, work: string, throttle: BlkioLink): string {
	const [mode, ...args] = s.workload;
	const orders = Array.from({ length: s.rounds }, (_, r) => rotation(s.variants, r).join(' '));
	return `
set -eu
cd ${work}
mkdir -p ${BLKIO_MOUNT} records
mount -t cgroup -o blkio none ${BLKIO_MOUNT}
evict() { dd if=data iflag=nocache count=0 status=none; }
round=0
for order in ${orders.map((o) => `'${o}'`).join(' ')}; do
	round=$((round + 1))
	evict
	${s.warmCache ? 'cat data >/dev/null' : ''}
	rm -rf img && mkdir img
	# sh -c: its $$ is the process that becomes the workload (a subshell's $$ is this shell's).
	sh -c 'echo $$ >${BLKIO_MOUNT}/${throttle.name}/tasks && exec setsid "$@"' - ${path.join(workloadBin, mode)} -f ${work}/data -p ${work}/progress ${args.join(' ')} </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep ${s.warmSeconds}
	kill -0 $pid || { echo "the workload died"; exit 11; }
	grep -q ":blkio:/${throttle.name}$" /proc/$pid/cgroup || { echo "the workload is not behind the throttle"; exit 12; }
	criu dump -t $pid -D img -L ${pluginDir} -o dump.log || { cat img/dump.log; exit 10; }
	for v in $order; do
		evict
		unshare -p -f --mount-proc --kill-child sh ${work}/variant.sh $v $round
	done
done
`;
}

/** Runs the scenario's rounds; the file, images and records live in a scratch directory on the throttled disk. */
export async function runRestoreRounds(s: RestoreScenario, throttle: BlkioLink, scratchParent: string): Promise<RestoreResult[]> {
	const work = mkdtempSync(path.join(scratchParent, `hotcache-bench-${s.name}-`));
	try {
		writeFileSync(path.join(work, 'variant.sh'), variantScript(s, work, throttle));
		writeFileSync(path.join(work, 'resident.mjs'), RESIDENT_HELPER);
		// The progress file: a 64-byte header and a byte per page of the data file (progress.h).
		const prepare = `head -c ${s.fileBytes} /dev/urandom >${work}/data && head -c ${64 + Math.ceil(s.fileBytes / 4096)} /dev/zero >${work}/progress && sync`;
		const script = `${prepare}\n${roundsScript(s, work, throttle)}`;
		const timeoutMs = s.rounds * (s.warmSeconds + s.variants.length * (s.windowSeconds + 15) + 30) * 1000 + 120_000;
		const result = await runInTestenv(script, { binds: [work], timeoutMs });
		if (result.code !== 0) throw new Error(`the ${s.name} rounds failed (exit ${result.code ?? result.signal}${result.timedOut ? ', timed out' : ''}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
		const out: RestoreResult[] = [];
		for (const m of result.stdout.matchAll(/^RESULT (\d+) (\w+) (\d+) (\d+)$/gm)) {
			const round = Number(m[1]);
			const variant = m[2] as Variant;
			const recordFile = path.join(work, 'records', `${round}-${variant}.jsonl`);
			const timeline = new RegExp(`^TIMELINE ${round} ${variant} ([\\d ]+)$`, 'm').exec(result.stdout)?.[1]?.split(' ').map(Number) ?? [];
			const residentBefore = Number(new RegExp(`^RESIDENT ${round} ${variant} (\\d+)$`, 'm').exec(result.stdout)?.[1] ?? NaN);
			const restoredMs = Number(new RegExp(`^RESTORED ${round} ${variant} (\\d+)$`, 'm').exec(result.stdout)?.[1] ?? NaN) / 1e6;
			out.push({ round, variant, bytes: Number(m[3]), ms: Number(m[4]), timeline, residentBefore, restoredMs, record: existsSync(recordFile) ? digestRecord(readFileSync(recordFile, 'utf8')) : null });
		}
		return out;
	} finally {
		keepRecords(work, s.name);
		rmSync(work, { recursive: true, force: true });
	}
}

/** With HOTCACHE_BENCH_RECORDS=DIR, the prefetchers' whole records are kept there, for a look at what the engine did. */
function keepRecords(work: string, name: string): void {
	const dest = process.env.HOTCACHE_BENCH_RECORDS;
	if (!dest) return;
	for (let round = 1; ; round++) {
		const file = path.join(work, 'records', `${round}-hotcache.jsonl`);
		if (!existsSync(file)) break;
		copyFileSync(file, path.join(dest, `${name}-${round}.jsonl`));
	}
}
