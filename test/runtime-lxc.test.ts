// LXC: lxc-checkpoint runs the criu command line (so /etc/criu/default.conf and /usr/lib/criu apply)
// with --root, dumping a small privileged container and restoring it after a cold cache.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { testUnless } from './support.js';
import { afterRestore, checkRoundTrip, coldCache, makeWorkload, READER_ARGS, runRuntime, runtimesSkip } from './runtimes-support.js';

const lxc = suite('lxc');
const skip = runtimesSkip();

testUnless(skip, lxc, 'lxc-checkpoint dump and restore: the hot pages of the root come back, one prefetcher, the container runs on', async () => {
	const w = makeWorkload('lxc');
	const hostA = path.join(w.root, 'A');
	// No apparmor line: this kernel has no AppArmor, and CRIU refuses an apparmor profile at restore.
	// No console (lxc-checkpoint refuses a restore whose console differs from the dump's). The
	// cgroups are named after the run.
	const run = await runRuntime(w, `
L=$W/lxc
mkdir -p "$L/$T"
cat >"$L/$T/config" <<EOT
lxc.uts.name = $T
lxc.rootfs.path = dir:$R
lxc.mount.entry = $V data none bind,create=dir 0 0
lxc.mount.auto = proc:mixed sys:ro
lxc.net.0.type = empty
lxc.init.cmd = ${READER_ARGS.join(' ')}
lxc.prlimit.nofile = 1024
lxc.tty.max = 0
lxc.pty.max = 0
lxc.console.path = none
lxc.cgroup.dir.container = $T/payload
lxc.cgroup.dir.monitor = $T/monitor
lxc.cgroup.dir.monitor.pivot = $T/pivot
lxc.log.file = $L/$T.log
lxc.log.level = WARN
EOT
lxc-start -P "$L" -n "$T" -d
sleep 1
lxc-checkpoint -P "$L" -n "$T" -D "$W/img" -s || { grep -i error "$W/img/dump.log" | tail; exit 11; }
ls -l "$W/img/hotcache.img"
${coldCache(hostA)}
lxc-checkpoint -P "$L" -n "$T" -D "$W/img" -r || { grep -i error "$W/img/restore.log" | tail; tail "$L/$T.log"; exit 12; }
lxc-info -P "$L" -n "$T" -s
${afterRestore(hostA, 3000)}
echo "--- hotcache lines in restore.log"
grep hotcache "$W/img/restore.log"
lxc-stop -P "$L" -n "$T" -k
`);
	checkRoundTrip(run, { hostA, hostB: path.join(w.vol, 'B') });
	assert.match(run.out, /State:\s+RUNNING/);
	// The plugin (init(RESTORE)) started it; CRIU's pre-restore action found it running.
	assert.match(run.out, /hotcache: a prefetcher was already started for this restore/);
});

lxc.run();
