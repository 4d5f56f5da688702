// runc (and so docker checkpoint, which runs runc underneath): `runc checkpoint`, a cold cache,
// `runc restore`, through nothing but what `hotcache install` configured, on a host without node.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { testUnless } from './support.js';
import { afterRestore, checkRoundTrip, coldCache, makeWorkload, runRuntime, runtimesSkip, writeOciBundle } from './runtimes-support.js';

const runc = suite('runc');
const skip = runtimesSkip();

testUnless(skip, runc, 'runc checkpoint and restore: the hot pages of the root and the volume come back, one prefetcher, the container runs on', async () => {
	const w = makeWorkload('runc');
	const bundle = writeOciBundle(w);
	const hostA = path.join(w.root, 'A');
	const run = await runRuntime(w, `
cd ${bundle}
runc run -d --pid-file pid "$T" </dev/null >/dev/null 2>&1
sleep 1
runc checkpoint --image-path "$W/img" --work-path "$W/ckpt" "$T" || { tail -20 "$W/ckpt/dump.log"; exit 11; }
ls -l "$W/img/hotcache.img"
grep 'hotcache: captured' "$W/ckpt/dump.log"
${coldCache(hostA)}
runc restore -d --image-path "$W/img" --work-path "$W/ckpt" "$T" </dev/null >/dev/null 2>&1 || { tail -20 "$W/ckpt/restore.log"; exit 12; }
runc state "$T" | grep '"status": "running"'
${afterRestore(hostA, 10000)}
echo "--- hotcache lines in restore.log"
grep hotcache "$W/ckpt/restore.log"
runc kill "$T" KILL; sleep 0.3; runc delete -f "$T"
`);
	checkRoundTrip(run, { hostA, hostB: path.join(w.vol, 'B') });
	// Both starters are configured (the plugin's init(RESTORE) and CRIU's pre-restore action): one claims.
	assert.match(run.out, /init\(RESTORE\): hotcache: prefetcher started for/);
	assert.match(run.out, /hotcache: a prefetcher was already started for this restore/);
	assert.match(run.out, /hotcache: prefetch (done|in progress)|the prefetcher is still starting/, 'post-resume reports');
});

runc.run();
