// crun with CRIU 4.1: crun drives CRIU through libcriu, which sets no config file before CRIU 4.2
// (criu_set_config_file), so /etc/criu/crun.conf and runc.conf are not read; /etc/criu/default.conf
// still is, by `criu swrk` itself. Two installs are tried: as `hotcache install` writes it for
// CRIU 4.1 (the plugin and the action script), and as it writes it where a config-file action
// script cannot be used (CRIU before 3.19: the plugin alone).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { testUnless } from './support.js';
import { afterRestore, checkRoundTrip, coldCache, makeWorkload, runRuntime, runtimesSkip, writeOciBundle } from './runtimes-support.js';

const crun = suite('crun');
const skip = runtimesSkip();

async function roundTrip(pluginOnly: boolean) {
	const w = makeWorkload('crun');
	const bundle = writeOciBundle(w);
	const hostA = path.join(w.root, 'A');
	const run = await runRuntime(w, `
echo "--- default.conf"; cat /etc/criu/default.conf || true
cd ${bundle}
crun run -d --pid-file pid "$T" </dev/null >/dev/null 2>&1
sleep 1
mkdir -p "$W/ckpt"
crun checkpoint --image-path "$W/img" --work-path "$W/ckpt" "$T" || { tail -20 "$W/ckpt/dump.log"; exit 11; }
ls -l "$W/img/hotcache.img"
${coldCache(hostA)}
crun restore -d --image-path "$W/img" --work-path "$W/ckpt" "$T" </dev/null >/dev/null 2>&1 || { tail -20 "$W/ckpt/restore.log"; exit 12; }
crun state "$T" | grep '"status": "running"'
${afterRestore(hostA, 10000)}
echo "--- hotcache lines in restore.log"
grep hotcache "$W/ckpt/restore.log" || true
crun kill "$T" KILL; sleep 0.3; crun delete -f "$T"
`, { installArgs: pluginOnly ? ['--criu-version', '3.18'] : [] });
	return { run, w, hostA };
}

testUnless(skip, crun, 'crun with CRIU 4.1, as installed: default.conf is read, the plugin starts the prefetch, the action script finds it running', async () => {
	const { run, w, hostA } = await roundTrip(false);
	checkRoundTrip(run, { hostA, hostB: path.join(w.vol, 'B') });
	assert.match(run.out, /^action-script \/usr\/libexec\/criu-hotcache\/action-script/m);
	assert.match(run.out, /init\(RESTORE\): hotcache: prefetcher started for/);
	assert.match(run.out, /hotcache: a prefetcher was already started for this restore/, 'the pre-restore action from default.conf ran under libcriu');
	assert.match(run.out, /hotcache: prefetch (done|in progress)|the prefetcher is still starting/, 'post-resume reports');
});

testUnless(skip, crun, 'crun with the plugin alone (no action script configured): the prefetch still runs, and CRIU\'s log has no post-resume line', async () => {
	const { run, w, hostA } = await roundTrip(true);
	checkRoundTrip(run, { hostA, hostB: path.join(w.vol, 'B') });
	assert.not.match(run.out, /^action-script /m, 'no action script in default.conf');
	assert.match(run.out, /init\(RESTORE\): hotcache: prefetcher started for/);
	assert.not.match(run.out, /a prefetcher was already started/);
	assert.not.match(run.out, /hotcache: prefetch (done|in progress)/, 'without the action script nothing reports at post-resume');
});

crun.run();
