// Incus: `incus stop --stateful` (CRIU dump through liblxc) and `incus start` (restore), with a cold
// cache between, on a privileged container made from a locally imported image. incusd runs in a
// network namespace of its own with only loopback: it tries to reach its image server at start,
// and nothing here may leave the machine; CRIU needs loopback up to probe TCP repair.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { testUnless } from './support.js';
import { afterRestore, checkRoundTrip, coldCache, makeWorkload, READER_ARGS, runRuntime, runtimesSkip } from './runtimes-support.js';

const incus = suite('incus');
const skip = runtimesSkip();

testUnless(skip, incus, 'incus stop --stateful and start: the hot pages of the root come back, one prefetcher, the container runs on', async () => {
	const w = makeWorkload('incus');
	// Incus's own settings for this machine: no console and no AppArmor profile (this kernel has no
	// AppArmor, and liblxc refuses a restore whose console differs from the dump's); liblxc's pivot
	// cgroup named after the run.
	const raw = [`lxc.init.cmd = ${READER_ARGS.join(' ')}`, 'lxc.console.path = none', 'lxc.apparmor.profile =', `lxc.cgroup.dir.monitor.pivot = ${w.token}.pivot`].join('\\n');
	const run = await runRuntime(w, `
export PATH=$PATH:/usr/libexec/incus INCUS_DIR=$W/incus
mkdir -p "$INCUS_DIR"
(unshare -n sh -c 'ip link set lo up && exec incusd --logfile "$INCUS_DIR/incusd.log"' </dev/null >/dev/null 2>&1 &)
incus admin waitready --timeout 30
incus storage create default dir >/dev/null
incus profile device add default root disk path=/ pool=default >/dev/null
mkdir -p "$W/image"
printf 'architecture: x86_64\\ncreation_date: 1700000000\\nproperties:\\n  description: criu-hotcache reader\\n' >"$W/image/metadata.yaml"
tar -C "$W/image" -cf "$W/image/meta.tar" metadata.yaml
tar -C "$R" -cf "$W/image/rootfs.tar" .
incus image import "$W/image/meta.tar" "$W/image/rootfs.tar" --alias "$T" >/dev/null
incus init -q "$T" "$T" -c security.privileged=true -c migration.stateful=true -c raw.lxc="$(printf '${raw}')" >/dev/null
incus config device add -q "$T" vol disk source="$V" path=/data >/dev/null
incus start "$T"
sleep 1
A=$INCUS_DIR/containers/$T/rootfs/A
incus stop --stateful "$T"
${coldCache('$A')}
incus start "$T"
incus list -f csv -c s "$T" | sed 's/^/state=/'
${afterRestore('$A', 3000)}
grep -h hotcache "$INCUS_DIR/logs/$T"/snapshot_restore_*.log
incus delete -f "$T" >/dev/null
incus admin shutdown --timeout 20 >/dev/null 2>&1 || true
`);
	assert.match(run.out, /^state=RUNNING$/m, run.out.slice(-3000));
	checkRoundTrip(run, { hostA: path.join(w.work, 'incus/containers', w.token, 'rootfs/A'), hostB: path.join(w.vol, 'B') });
});

incus.run();
