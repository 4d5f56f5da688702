// Real CRIU end to end in the test environment: a reader is dumped with the hotcache plugin, its files
// are evicted, and `criu restore --action-script hooks/action-script` brings the hot file back while the
// process runs on. A corrupt hotcache.img still restores the process, and CRIU's log says why nothing
// was prefetched.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { builtFile } from '../tools/project.js';
import { runInTestenv, skipReason } from '../tools/testenv/index.js';
import { buildFixtures, HELPER, PAGE, readerTool, residentAgain, residentEnough, scratchDir, testUnless, value } from './support.js';

const e2e = suite('restore end to end');
const plugin = builtFile('plugin');
const reader = readerTool;
const actionScript = builtFile('actionScript');

function why(): string | null {
	const env = skipReason();
	if (env) return env;
	if (!existsSync(plugin)) return `the plugin is not built (${plugin}; npm ci builds it)`;
	buildFixtures();
	return null;
}

const A_BYTES = 32 << 20;
const A_PAGES = A_BYTES / PAGE;
const B_BYTES = 8 << 20;

// Who starts the prefetcher: CRIU's pre-restore action (--action-script), the plugin's init(RESTORE)
// (the only way in for CRIU 3.17/3.18 under runc), or both at once (one prefetcher must start).
type Starter = 'action-script' | 'plugin' | 'both';

function script(work: string, corrupt: boolean, starter: Starter = 'action-script', launcher = actionScript): string {
	const viaPlugin = starter !== 'action-script' ? `HOTCACHE_ACTION_SCRIPT=${launcher}` : '';
	const viaCriu = starter !== 'plugin' ? `--action-script ${actionScript}` : '';
	return `
set -eu
W=${work}
cd "$W"
export HOTCACHE_STATE_DIR=$W/state HOTCACHE_RECORD=$W/record.jsonl
h() { node "$W/helper.mjs" "$@"; }
head -c ${A_BYTES} /dev/urandom >A
head -c ${B_BYTES} /dev/urandom >B
head -c 8 /dev/zero >counter
sync
setsid ${reader} -a "$W/A" -b "$W/B" -n "$W/counter" -i 10 </dev/null >/dev/null 2>&1 &
pid=$!
sleep 1
echo "before=$(h counter "$W/counter")"
mkdir -p img
criu dump -t "$pid" -D img -L ${path.dirname(plugin)} -v4 -o dump.log || { cat img/dump.log; exit 10; }
ls -l img/hotcache.img
${corrupt ? 'head -c 40 img/hotcache.img >img/cut && mv img/cut img/hotcache.img' : ''}
h evict "$W/A" "$W/B"
dumped=$(h counter "$W/counter")
${viaPlugin} criu restore -D img -d -L ${path.dirname(plugin)} ${viaCriu} -v4 -o restore.log || { cat img/restore.log; exit 13; }
echo "prefetchers=$(ls state/restores | wc -l)"

kill -0 "$pid" || { echo "restored pid $pid not running"; exit 14; }
echo "dumped=$dumped"
${corrupt ? 'sleep 0.5' : `h wait-resident "$W/A" ${A_PAGES} ${residentEnough(A_PAGES)} 10000`}
sleep 0.3
echo "after=$(h counter "$W/counter")"
echo "--- hotcache lines in restore.log"
grep 'hotcache' img/restore.log || true
kill "$pid"
`;
}

async function restore(corrupt: boolean, starter?: Starter, launcher?: (work: string) => string) {
	const scratch = scratchDir('e2e');
	const work = scratch.dir;
	writeFileSync(path.join(work, 'helper.mjs'), HELPER);
	try {
		const result = await runInTestenv(script(work, corrupt, starter, launcher?.(work)), { binds: [work], timeoutMs: 120_000 });
		const out = `${result.stdout}\n${result.stderr}`;
		let record: Record<string, unknown>[] = [];
		try {
			record = readFileSync(path.join(work, 'record.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
		} catch {
			// No record: the assertions below say what is missing.
		}
		return { result, out, record, work };
	} finally {
		scratch.remove();
	}
}

const skip = why();

testUnless(skip, e2e, 'the hot file is resident again soon after restore, pages after the fd offset first, and the process runs on', async () => {
	const { result, out, record, work } = await restore(false);
	assert.is(result.code, 0, `the restore script failed (exit ${result.code}):\n${out}`);
	const resident = residentAgain(out);
	assert.ok(resident, `A is not resident again:\n${out}`);
	assert.ok(value(out, 'after') > value(out, 'dumped'), `the restored reader made no progress:\n${out}`);
	assert.match(out, /hotcache: prefetcher started for/);
	assert.match(out, /hotcache: (prefetch (done|in progress)|the prefetcher is still starting)/, 'post-resume reports');

	const fileA = record.find((e) => e.kind === 'file' && e.path === `${work}/A`) as { fdPages: number[] } | undefined;
	assert.ok(fileA, `A was not planned:\n${JSON.stringify(record.filter((e) => e.kind !== 'chunk'))}`);
	// A chunk names its file by the index its `file` event gave it.
	const pathOf = new Map(record.filter((e) => e.kind === 'file').map((e) => [e.file as number, e.path as string]));
	const chunks = (record.filter((e) => e.kind === 'chunk') as { seq: number; file: number; start: number; phase: string }[]).map((c) => ({ ...c, path: pathOf.get(c.file) }));
	const first = chunks.find((c) => c.seq === 0);
	assert.ok(first, 'no chunk recorded');
	assert.is(first!.path, `${work}/A`);
	assert.is(first!.phase, 'resume');
	assert.ok(fileA!.fdPages.includes(first!.start), `the first chunk starts at page ${first!.start}, not at A's saved offset (${fileA!.fdPages})`);
	const firstB = chunks.filter((c) => c.path === `${work}/B`).map((c) => c.seq);
	const lastA = Math.max(...chunks.filter((c) => c.path === `${work}/A`).map((c) => c.seq));
	if (firstB.length) assert.ok(Math.min(...firstB) > lastA, 'B (read once: warm) comes after A (hot)');
	// HOTCACHE_E2E_VERBOSE=1 shows the script output and the record (without most chunks).
	if (process.env.HOTCACHE_E2E_VERBOSE) process.stdout.write(`${out}\n${JSON.stringify(record.filter((e) => e.kind !== "chunk" || (e.seq as number) < 3))}\n`);
	process.stdout.write(`  e2e: A resident again ${resident!.ms} ms after restore returned\n`);
});

testUnless(skip, e2e, 'a corrupt hotcache.img still restores the process and CRIU\'s log says why nothing was prefetched', async () => {
	const { result, out, record } = await restore(true);
	assert.is(result.code, 0, `the restore script failed (exit ${result.code}):\n${out}`);
	assert.ok(value(out, 'after') > value(out, 'dumped'), `the restored reader made no progress:\n${out}`);
	assert.match(out, /hotcache: hotcache.img is 40 bytes, its header announces \d+; nothing is prefetched for this restore/);
	assert.not.ok(record.some((e) => e.kind === 'chunk'), 'nothing fetched');
});

testUnless(skip, e2e, 'the plugin alone starts the prefetcher at init(RESTORE), where no action script is configured', async () => {
	const { result, out, record } = await restore(false, 'plugin');
	assert.is(result.code, 0, `the restore script failed (exit ${result.code}):\n${out}`);
	assert.match(out, /hotcache: init\(RESTORE\): hotcache: prefetcher started for the image the plugin opened \(fd 3\)/);
	// The image read from the fd the plugin opened, the root from the pid its RESUME_DEVICES_LATE wrote.
	assert.ok(record.some((e) => e.kind === 'start' && e.image === 'fd 3'), JSON.stringify(record.find((e) => e.kind === 'start')));
	assert.ok(record.some((e) => e.kind === 'root' && e.ours === true), 'a restore without its own root: the prefetcher\'s root');
	assert.ok(residentAgain(out), `A is not resident again:\n${out}`);
	assert.ok(value(out, 'after') > value(out, 'dumped'), `the restored reader made no progress:\n${out}`);
});

testUnless(skip, e2e, 'with both the plugin and the action script, one restore starts one prefetcher', async () => {
	const { result, out } = await restore(false, 'both');
	assert.is(result.code, 0, `the restore script failed (exit ${result.code}):\n${out}`);
	assert.match(out, /init\(RESTORE\): hotcache: prefetcher started for/);
	assert.match(out, /hotcache: a prefetcher was already started for this restore/);
	assert.is(value(out, 'prefetchers'), 1, out);
});

testUnless(skip, e2e, 'a launcher that hangs is stopped after 3 s and the restore goes on', async () => {
	const hang = (work: string) => {
		const file = path.join(work, 'hang.sh');
		writeFileSync(file, '#!/bin/sh\necho about to hang\nexec sleep 60\n', { mode: 0o755 });
		return file;
	};
	const { result, out } = await restore(false, 'plugin', hang);
	assert.is(result.code, 0, `the restore script failed (exit ${result.code}):\n${out}`);
	assert.match(out, /hotcache: init\(RESTORE\): about to hang/);
	assert.match(out, /hotcache: .*hang\.sh did not return within 3000 ms: stopped/);
	assert.ok(value(out, 'after') > value(out, 'dumped'), `the restored reader made no progress:\n${out}`);
});

e2e.run();
