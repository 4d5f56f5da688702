// The foundation's smoke test: real CRIU 4.1.1 dumps and restores a running process in the test
// environment, and the restored process keeps making progress.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runInTestenv, skipReason } from '../tools/testenv/index.js';
import { testUnless } from './support.js';

const smoke = suite('criu smoke');

// A counter loop in its own session with stdio on /dev/null and no fds above 2, as criu requires.
// It prints the counter twice, half a second apart, after the restore; the test checks it grew.
const SCRIPT = `
set -eu
mkdir -p /tmp/work /tmp/img
cd /tmp/work
setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/work/counter.new; mv /tmp/work/counter.new /tmp/work/counter; sleep 0.05; done' </dev/null >/dev/null 2>&1 &
pid=$!
sleep 0.5
echo "before=$(cat /tmp/work/counter)"
criu dump -t "$pid" -D /tmp/img -v4 -o dump.log || { cat /tmp/img/dump.log; exit 10; }
if kill -0 "$pid" 2>/dev/null; then echo "still running after dump"; exit 11; fi
dumped=$(cat /tmp/work/counter)
sleep 0.3
[ "$(cat /tmp/work/counter)" = "$dumped" ] || { echo "counter moved while dumped"; exit 12; }
criu restore -D /tmp/img -d -v4 -o restore.log || { cat /tmp/img/restore.log; exit 13; }
kill -0 "$pid" || { echo "restored pid $pid not running"; exit 14; }
echo "dumped=$dumped"
sleep 0.5
echo "after1=$(cat /tmp/work/counter)"
sleep 0.5
echo "after2=$(cat /tmp/work/counter)"
kill "$pid"
`;

testUnless(skipReason(), smoke, 'a dumped and restored process keeps counting', async () => {
	const result = await runInTestenv(SCRIPT, { timeoutMs: 120_000 });
	const out = result.stdout + result.stderr;
	assert.is(result.code, 0, `the smoke script failed (exit ${result.code}):\n${out}`);
	const value = (name: string) => Number(new RegExp(`^${name}=(\\d+)$`, 'm').exec(result.stdout)?.[1] ?? NaN);
	assert.ok(value('dumped') >= value('before'), out);
	assert.ok(value('after1') > value('dumped'), `no progress after restore:\n${out}`);
	assert.ok(value('after2') > value('after1'), `progress stopped after restore:\n${out}`);
});

smoke.run();
