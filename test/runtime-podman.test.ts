// podman: `podman container checkpoint --export` (the tar carries checkpoint/hotcache.img), the
// container removed, a cold cache, `podman container restore --import`. podman runs runc here (crun
// takes the same path: see runtime-crun). The image is imported from the container's root directory
// (no registry is reachable); its storage is on the run's own disk directory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { testUnless } from './support.js';
import { afterRestore, checkRoundTrip, coldCache, makeWorkload, READER_ARGS, runRuntime, runtimesSkip } from './runtimes-support.js';

const podman = suite('podman');
const skip = runtimesSkip();

testUnless(skip, podman, 'podman checkpoint --export, restore --import: the hot pages come back, one prefetcher, the container runs on', async () => {
	const w = makeWorkload('podman');
	// The image's A, where podman's overlay storage keeps the layer: evicting it evicts what the container reads.
	const run = await runRuntime(w, `
export PODMAN_IGNORE_CGROUPSV1_WARNING=1
mkdir -p /etc/containers
printf '[storage]\\ndriver = "overlay"\\ngraphroot = "%s"\\nrunroot = "/run/containers/storage"\\n' "$W/storage" >/etc/containers/storage.conf
tar -C "$R" -c reader A | podman import -q - "localhost/$T:1" >/dev/null
# The host's hard limits (nofile 20000) are below podman's defaults: ask for less. The cgroup parent
# carries the run's token, so every cgroup podman makes can be removed after the run.
podman run -d -q --name "$T" --runtime runc --network none --cgroup-parent "/$T" \\
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v "$V:/data" "localhost/$T:1" ${READER_ARGS.join(' ')} >/dev/null
sleep 1
podman container checkpoint --export "$W/ckpt.tar" --compress none "$T" >/dev/null
tar -tf "$W/ckpt.tar" | grep -x checkpoint/hotcache.img
podman rm -f -t 0 "$T" >/dev/null
A=$(find "$W/storage/overlay" -path '*/diff/A' | head -n 1)
echo "A=$A"
${coldCache('$A')}
podman container restore --import "$W/ckpt.tar" >/dev/null
podman inspect -f 'state={{.State.Status}}' "$T"
${afterRestore('$A', 10000)}
podman rm -f -t 0 "$T" >/dev/null
`);
	const hostA = /^A=(\S+)$/m.exec(run.out)?.[1] ?? '';
	assert.ok(hostA, `the image layer's A was not found:\n${run.out.slice(-3000)}`);
	assert.match(run.out, /^checkpoint\/hotcache\.img$/m, 'the exported archive carries hotcache.img');
	assert.match(run.out, /^state=running$/m);
	checkRoundTrip(run, { hostA, hostB: path.join(w.vol, 'B') });
});

podman.run();
