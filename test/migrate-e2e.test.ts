// `hotcache migrate` for real, between the two emulated hosts (tools/hosts) inside the test environment
// (CRIU 4.1.1): a reader of a file on the shared storage moves to the destination with each --warm
// mode and runs on there, exactly one prefetcher runs per migration, and the summary's timeline puts
// the prefetch where the mode says (precopy: before the freeze, with the hot pages resident before the
// restore; freeze: from the plugin's plan, written before CRIU dumped the memory; restore: at the
// restore; off: none). A dump or a restore made to fail leaves the process running on the source;
// Ctrl-C before the freeze leaves it untouched and nothing running; the ssh transport is a real sshd; and
// on one kernel the restore waits for the dumped pid to be released.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { skipReason } from '../tools/testenv/index.js';
import type { MigrationSummary } from '../tools/migrate/summary.js';
import { buildFixtures, PAGE, pluginFile, readerTool, residentEnough, testUnless } from './support.js';
import { runOnHosts } from './hosts-support.js';

const e2e = suite('hotcache migrate');
const FILE_BYTES = 16 << 20;
/** Each host's link to the storage: slow enough that the warm-up takes a moment, fast enough for a test. */
const LINK_BPS = 50_000_000;
const STATE = '/run/hotcache-state';

function why(): string | null {
	const env = skipReason();
	if (env) return env;
	if (!existsSync(pluginFile)) return `the plugin is not built (${pluginFile}; npm ci builds it)`;
	buildFixtures();
	return null;
}

interface Case {
	warm: 'precopy' | 'freeze' | 'restore' | 'off';
	/** Where hotcache's state lives on each host (each has its own). */
	stateDir?: string;
	/** Shell run before the hosts are set up (the destination inherits its mounts). */
	before?: string;
	/** Shell run on the source before the reader starts. */
	setup?: string;
	readerArgs?: string;
	/** Runs the reader (default: setsid). */
	launch?: string;
	/** Shell run once it is launched ($pid: what was launched; may set pid to the reader's own). */
	afterLaunch?: string;
	readBps?: number;
	local?: string[];
	/** The migrate command line up to its options (default: over exec:nsenter). */
	migrate?: string;
	migrateArgs?: string;
	/** Shell run while `hotcache migrate` runs in the background ($mp is its pid). */
	during?: string;
}

interface Outcome {
	out: string;
	code: number | null;
	summary: MigrationSummary | null;
	values: Map<string, string[]>;
}

const lines = (values: Map<string, string[]>, key: string): string[] => values.get(key) ?? [];
const one = (values: Map<string, string[]>, key: string): string | undefined => lines(values, key)[0];

async function migrate(c: Case): Promise<Outcome> {
	const state = c.stateDir ?? STATE;
	const script = `
export HOTCACHE_STATE_DIR=${state}
printf '\\0\\0\\0\\0\\0\\0\\0\\0' >"$W/counter"
${c.setup ?? ''}
${c.launch ?? 'setsid'} ${readerTool} -a "$SHARED/A" ${c.readerArgs ?? ''} -n "$W/counter" -i 20 </dev/null >/dev/null 2>&1 &
pid=$!
${c.afterLaunch ?? ''}
i=0
while [ "$(h counter "$W/counter")" = 0 ]; do sleep 0.05; i=$((i + 1)); [ $i -lt 200 ] || { echo "the reader never counted"; exit 20; }; done
echo "mnt-source=$(readlink /proc/self/ns/mnt)"
echo "mnt-dest=$(readlink /proc/$HOSTS_DEST_PID/ns/mnt)"
set +e
${c.migrate ?? 'node "$P/tools/hotcache.js" migrate --to "exec:nsenter -t $HOSTS_DEST_PID -m --"'} --pid $pid --warm ${c.warm} --images-dir "$W/img" --json ${c.migrateArgs ?? ''} >"$W/summary.json" 2>"$W/migrate.err" &
mp=$!
${c.during ?? ''}
wait $mp
echo "rc=$?"
set -e
echo "mnt-pid=$(readlink /proc/$pid/ns/mnt || echo gone)"
c1=$(h counter "$W/counter"); sleep 0.3; echo "progress=$(( $(h counter "$W/counter") - c1 ))"
# Who prefetched, from the destination's state directory: the claims of its restores, the
# prefetchers the action script started, and every process that recorded a prefetch start.
on_dest sh -c 'cd ${state} 2>/dev/null || exit 0
	for f in restores/*/claimed; do [ -e "$f" ] && echo "claim=$(cat "$f")"; done
	for f in restores/*/prefetcher.pid; do [ -e "$f" ] && read -r p _ <"$f" && echo "script-prefetcher=$p"; done
	cat restores/*/record.jsonl migrations/*/record.jsonl 2>/dev/null | sed -n "s/.*\\"kind\\":\\"start\\",\\"pid\\":\\([0-9]*\\).*/start-pid=\\1/p" | sort -u
	for d in migrations/*/images; do [ -e "$d" ] && echo "images-left=$d"; done
	true'
ps -e -o args= | grep -e "hotcache.js receive" -e "prefetcher.js" -e "criu " | grep -v grep | sed 's/^/running=/' || true
echo "strict-failed=$(grep -c 'strict mode: failing the dump' "$W/img/dump.log" 2>/dev/null)"
echo "told-line=$(grep -n 'hotcache: told' "$W/img/dump.log" 2>/dev/null | head -1 | cut -d: -f1)"
echo "pages-line=$(grep -n 'Dumping pages' "$W/img/dump.log" 2>/dev/null | head -1 | cut -d: -f1)"
echo "--- migrate stderr"
cat "$W/migrate.err"
kill $pid 2>/dev/null || true
`;
	const options = { files: { A: FILE_BYTES }, readBps: c.readBps ?? LINK_BPS, local: [state, ...(c.local ?? [])], timeoutMs: 180_000, ...(c.before ? { before: c.before } : {}) };
	return runOnHosts('migrate', options, script, (run) => {
		const values = new Map<string, string[]>();
		for (const m of run.result.stdout.matchAll(/^([a-z-]+)=(.*)$/gm)) values.set(m[1]!, [...(values.get(m[1]!) ?? []), m[2]!]);
		let summary: MigrationSummary | null = null;
		try {
			summary = JSON.parse(readFileSync(path.join(run.work, 'summary.json'), 'utf8')) as MigrationSummary;
		} catch {
			// No summary: the assertions say so, with the output.
		}
		return { out: `${run.out}\nsummary: ${JSON.stringify(summary)}`, code: run.result.code, summary, values };
	});
}

/** The process moved: the migration says so, and it runs on, in the destination's mount namespace. */
function assertMoved(o: Outcome): MigrationSummary {
	assert.is(o.code, 0, o.out);
	assert.is(one(o.values, 'rc'), '0', o.out);
	const s = o.summary;
	assert.ok(s, `no summary:\n${o.out}`);
	assert.is(s!.outcome, 'moved', o.out);
	assert.is(one(o.values, 'mnt-pid'), one(o.values, 'mnt-dest'), `the process runs on the destination:\n${o.out}`);
	assert.ok(Number(one(o.values, 'progress')) > 0, `the process makes progress after the move:\n${o.out}`);
	assert.ok(s!.downtimeMs !== null && s!.downtimeMs > 0, o.out);
	assert.equal(lines(o.values, 'running'), [], `nothing of the migration is left running:\n${o.out}`);
	assert.equal(lines(o.values, 'images-left'), [], 'the destination removed the images after the restore');
	return s!;
}

/** Exactly one process prefetched on the destination, and the summary names it. */
function assertOnePrefetcher(o: Outcome, s: MigrationSummary): string {
	const pids = lines(o.values, 'start-pid');
	assert.is(pids.length, 1, `one prefetcher recorded a start:\n${o.out}`);
	assert.equal(s.warmUp.prefetchers.map(String), pids, o.out);
	return pids[0]!;
}

const skip = why();

testUnless(skip, e2e, 'precopy: the destination prefetches before the freeze, the hot pages are resident before the restore, the restore starts no second prefetcher', async () => {
	const o = await migrate({ warm: 'precopy' });
	const s = assertMoved(o);
	const agent = assertOnePrefetcher(o, s);
	assert.equal(lines(o.values, 'claim'), [`migration ${s.migration}`], `the restore was claimed for the migration's agent:\n${o.out}`);
	assert.equal(lines(o.values, 'script-prefetcher'), [], 'the action script started none');
	assert.ok(s.timeline.prefetchStart! < s.timeline.freeze!, `the prefetch started before the freeze:\n${o.out}`);
	assert.ok(s.prefetchStartVsFreezeMs! < 0);
	assert.ok(s.timeline.warmDone! <= s.timeline.freeze!, 'the freeze came after the destination said it was done');
	assert.ok(s.plan.bytes! >= FILE_BYTES * 0.9, `the plan holds the file read hot:\n${o.out}`);
	assert.ok(s.plan.residentBeforeRestore! >= residentEnough(s.plan.bytes! / PAGE) * PAGE, `the hot pages were resident before the restore began:\n${o.out}`);
	assert.ok(s.warmUp.recaptures <= 3);
	assert.ok(Number(agent) > 0);
});

testUnless(skip, e2e, 'freeze, with hotcache installed: the plugin\'s plan reaches the destination before CRIU dumps the memory, and the prefetch starts between the freeze and the resume', async () => {
	// A real `hotcache install` into overlays of the test root file system's directories (this test's own).
	const before = `
for d in /etc /usr/lib /usr/libexec /var/lib; do
	mkdir -p "$W/overlay$d/upper" "$W/overlay$d/work"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$W/overlay$d/upper,workdir=$W/overlay$d/work" "$d"
done
node "$P/tools/hotcache.js" install >/dev/null
# The checkout's plugin is no plugin from here on: CRIU must be using the installed copy.
mount --bind /dev/null "$P/criu-plugin/out/hotcache.so"
`;
	const o = await migrate({ warm: 'freeze', stateDir: '/var/lib/criu-hotcache', before });
	const s = assertMoved(o);
	assertOnePrefetcher(o, s);
	assert.equal(lines(o.values, 'claim'), [`migration ${s.migration}`], o.out);
	assert.is(s.finalPlanBeforeDumpEnd, true, o.out);
	const told = Number(one(o.values, 'told-line'));
	const pages = Number(one(o.values, 'pages-line'));
	assert.ok(told > 0 && pages > told, `CRIU's log: the plugin told the tool (line ${told}) before the memory dump (line ${pages})`);
	const t = s.timeline;
	assert.ok(t.prefetchStart! >= t.freeze! && t.prefetchStart! < t.resume!, `the prefetch started after the freeze and before the resume:\n${o.out}`);
	assert.ok(t.finalPlan! <= t.dumpDone!, o.out);
});

testUnless(skip, e2e, 'restore: the action script\'s prefetcher, started at the restore, is the only one', async () => {
	const o = await migrate({ warm: 'restore' });
	const s = assertMoved(o);
	const pid = assertOnePrefetcher(o, s);
	assert.equal(lines(o.values, 'script-prefetcher'), [pid], o.out);
	assert.match(one(o.values, 'claim') ?? '', /^action-script \d+$/, o.out);
	assert.ok(s.timeline.prefetchStart! >= s.timeline.restoreStart!, `the prefetch started at the restore:\n${o.out}`);
	assert.ok(s.prefetchStartVsFreezeMs! > 0);
	assert.ok(s.warmUp.fetchedAfterResume! > 0, 'it fetched after the resume');
});

testUnless(skip, e2e, 'off: CRIU alone, no prefetch anywhere', async () => {
	const o = await migrate({ warm: 'off' });
	const s = assertMoved(o);
	assert.equal(lines(o.values, 'start-pid'), [], o.out);
	assert.equal(lines(o.values, 'claim'), [], o.out);
	assert.is(s.timeline.prefetchStart, null);
	assert.is(s.plan.bytes, null);
});

testUnless(skip, e2e, 'on one kernel the restore waits until the dumped process is reaped: its pid is free again only then', async () => {
	// The emulated hosts share the pid namespace. The reader's parent is a sleep, which reaps nothing:
	// once the dump has killed the reader its zombie keeps the pid until a second later, when the sleep
	// is ended and the namespace's init takes the zombie over.
	const launch = `sh -c 'setsid "$@" & echo $! >"$0"; exec sleep 600' "$W/reader-pid"`;
	const afterLaunch = `holder=$pid; until [ -s "$W/reader-pid" ]; do sleep 0.01; done; pid=$(cat "$W/reader-pid")`;
	const during = `
( i=0; until grep -q '^[0-9]* (.*) Z' /proc/$pid/stat 2>/dev/null || [ $i -ge 1000 ]; do sleep 0.02; i=$((i + 1)); done
  sleep 1; kill $holder ) &`;
	const o = await migrate({ warm: 'off', launch, afterLaunch, during });
	assertMoved(o);
});

testUnless(skip, e2e, 'a restore that fails on the destination restores the process on the source from the same images', async () => {
	// The reader also holds a file that only the source has: the destination cannot restore it.
	const o = await migrate({ warm: 'freeze', local: ['/run/source-only'], setup: 'echo here >/run/source-only/file', readerArgs: '-c /run/source-only/file' });
	assert.is(one(o.values, 'rc'), '1', o.out);
	assert.is(o.summary?.outcome, 'restored-on-source', o.out);
	assert.match(o.summary!.error ?? '', /criu restore failed on the destination/);
	assert.is(one(o.values, 'mnt-pid'), one(o.values, 'mnt-source'), `the process runs on the source:\n${o.out}`);
	assert.ok(Number(one(o.values, 'progress')) > 0, `and makes progress:\n${o.out}`);
	assert.equal(lines(o.values, 'running'), [], `nothing of the migration is left running:\n${o.out}`);
	assert.equal(lines(o.values, 'images-left'), [], o.out);
});

testUnless(skip, e2e, 'a dump that fails after the freeze resumes the process on the source', async () => {
	// Strict mode with a backend this host lacks: the plugin fails the dump at CHECKPOINT_DEVICES,
	// with the tree frozen; CRIU then lets it run on.
	const o = await migrate({ warm: 'freeze', migrate: 'HOTCACHE_STRICT=1 HOTCACHE_BACKEND=kmod node "$P/tools/hotcache.js" migrate --to "exec:nsenter -t $HOSTS_DEST_PID -m --"' });
	assert.is(one(o.values, 'rc'), '1', o.out);
	assert.is(o.summary?.outcome, 'not-moved', o.out);
	assert.match(o.summary!.error ?? '', /criu dump failed/);
	assert.is(one(o.values, 'strict-failed'), '1', `CRIU's log shows where the dump failed:\n${o.out}`);
	assert.ok(o.summary!.timeline.freeze !== null, 'it was frozen');
	assert.is(one(o.values, 'mnt-pid'), one(o.values, 'mnt-source'), `the process runs on the source:\n${o.out}`);
	assert.ok(Number(one(o.values, 'progress')) > 0, o.out);
	assert.equal(lines(o.values, 'running'), [], `nothing of the migration is left running:\n${o.out}`);
	assert.equal(lines(o.values, 'images-left'), [], o.out);
});

testUnless(skip, e2e, 'Ctrl-C before the freeze leaves the process untouched and nothing running on either side', async () => {
	// A slow link and a long timeout: the warm-up is still going when the interrupt comes.
	const during = `
i=0
until on_dest sh -c 'ls ${STATE}/migrations/*/prefetcher.pid' >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); [ $i -lt 400 ] || break; done
kill -INT $mp
`;
	const o = await migrate({ warm: 'precopy', readBps: 2_000_000, migrateArgs: '--precopy-timeout 120', during });
	assert.is(one(o.values, 'rc'), '1', o.out);
	assert.is(o.summary?.outcome, 'not-moved', o.out);
	assert.is(o.summary!.timeline.freeze, null, 'never frozen');
	assert.ok(o.summary!.timeline.prefetchStart !== null, 'interrupted during the warm-up');
	assert.is(one(o.values, 'mnt-pid'), one(o.values, 'mnt-source'), o.out);
	assert.ok(Number(one(o.values, 'progress')) > 0, o.out);
	assert.equal(lines(o.values, 'running'), [], `nothing of the migration is left running:\n${o.out}`);
	assert.equal(lines(o.values, 'images-left'), [], o.out);
});

testUnless(skip, e2e, 'over ssh: a real sshd on a loopback address in a network namespace of the test\'s own', async () => {
	// The test's network (a namespace with its loopback up) exists before the hosts, so both see it;
	// the source side and the destination's sshd enter it, CRIU stays in the process's namespaces.
	const before = `
mount -t tmpfs -o mode=0700 tmpfs /root
mkdir -m 0700 /root/.ssh
ip netns add hc-migrate
ip -n hc-migrate link set lo up
`;
	const setup = `
ssh-keygen -q -t ed25519 -N '' -f "$W/host_key"
ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519
cp /root/.ssh/id_ed25519.pub "$W/authorized_keys"
echo "[127.0.0.1]:2222 $(cat "$W/host_key.pub")" >/root/.ssh/known_hosts
cat >"$W/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.1
HostKey $W/host_key
PidFile $W/sshd.pid
AuthorizedKeysFile $W/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
SetEnv HOTCACHE_STATE_DIR=${STATE}
EOF
mkdir -p /run/sshd
nsenter -t "$HOSTS_DEST_PID" -m --net=/run/netns/hc-migrate -- /usr/sbin/sshd -f "$W/sshd_config" -E "$W/sshd.log"
`;
	const o = await migrate({
		warm: 'precopy',
		before,
		setup,
		launch: 'nsenter --net=/run/netns/hc-migrate -- setsid',
		migrate: 'nsenter --net=/run/netns/hc-migrate -- node "$P/tools/hotcache.js" migrate --to ssh:root@127.0.0.1:2222',
	});
	const s = assertMoved(o);
	assertOnePrefetcher(o, s);
	assert.is(s.destination, 'ssh:root@127.0.0.1:2222');
	assert.ok(s.plan.residentBeforeRestore! >= residentEnough(s.plan.bytes! / PAGE) * PAGE, o.out);
});

e2e.run();
