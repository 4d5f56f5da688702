#!/bin/sh
# pid 1 of one of the NFS VMs (tools/bench/nfs-vms.ts; guest-init.sh switched here with
# hotcache_job=guest-nfs.sh). The root is the VM's own (a snapshot of the cached image, writable,
# discarded at exit); /job (vdb) holds this script, `config` (sh variables from the host) and out/.
#  srv  exports the ext4 image on vdc read-only over NFSv4.2 (max_block_size 1 MiB), its file read once
#       so that the server's cache is warm, and serves until the host stops it.
#  dst  mounts the export, installs criu-hotcache from the checkout on vdc (/opt/hotcache) the way a
#       user does (`hotcache install`, `hotcache` on PATH) and runs sshd for the source's key.
#  src  the same, then runs the plan: per run, the file evicted on both clients and read once on the
#       source (timed: the link), samplers on both clients (tools/bench/nfs-sampler.ts), the
#       workload started, `hotcache migrate --to ssh:DST` at MOVE_AT_S, the workload killed at
#       WINDOW_S wherever it runs; everything into /job/out/run-N/. Then powers off.
# Lines starting with HOTCACHE-NFS are read by the host.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
job=/job
. $job/config
mount -o remount,rw /
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
hostname "$ROLE"
say() { echo "HOTCACHE-NFS $ROLE $*"; }

nic=
for n in /sys/class/net/*; do [ "${n##*/}" = lo ] || { nic=${n##*/}; break; }; done
ip link set lo up
ip link set "$nic" up
ip addr add "$ADDR/24" dev "$nic"

power_off() {
	sync
	mount -o remount,ro $job 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 10 # pid 1 must not exit (a kernel panic) before the power-off takes effect
}

serve() {
	mkdir -p /export /var/lib/nfs/v4recovery /run/rpc_pipefs
	mount -t ext4 -o ro /dev/vdc /export || { say "failed: mounting the export"; power_off; }
	echo "/export 192.0.2.0/24(ro,no_subtree_check,no_root_squash,fsid=1)" >/etc/exports
	mount -t nfsd nfsd /proc/fs/nfsd
	echo 1048576 >/proc/fs/nfsd/max_block_size
	echo 10 >/proc/fs/nfsd/nfsv4leasetime
	echo 10 >/proc/fs/nfsd/nfsv4gracetime
	rpcbind -w 2>/dev/null
	exportfs -ra
	rpc.mountd
	rpc.nfsd 8 || { say "failed: rpc.nfsd"; power_off; }
	cat "/export/$FILE" >/dev/null
	say ready
	while :; do sleep 3600; done
}

# The export at the same path on both clients (CRIU restores the process's files by path).
mount_export() {
	mkdir -p /mnt/nfs
	i=0
	until mount -t nfs4 -o vers=4.2,actimeo=1 192.0.2.1:/export /mnt/nfs 2>/tmp/mount.err; do
		i=$((i + 1))
		[ $i -lt 120 ] || { say "failed: mount: $(cat /tmp/mount.err)"; power_off; }
		sleep 1
	done
	say "mounted $(grep ' /mnt/nfs ' /proc/mounts)"
}

install_hotcache() {
	mkdir -p /opt/hotcache
	mount -t ext4 -o ro /dev/vdc /opt/hotcache || { say "failed: mounting the checkout"; power_off; }
	ln -s /opt/hotcache/tools/hotcache.js /usr/local/bin/hotcache
	# The root image has no room for the private Node (127 MB): what install puts there lives in memory.
	mkdir -p /usr/libexec/criu-hotcache
	mount -t tmpfs tmpfs /usr/libexec/criu-hotcache
	hotcache install --json >/tmp/install.json 2>&1 || { say "failed: hotcache install: $(cat /tmp/install.json)"; power_off; }
	hotcache --version >/dev/null # its modules read once, as on a host where it has run before
	mkdir -p /root/.ssh
	chmod 700 /root/.ssh
}

if [ "$ROLE" = srv ]; then serve; fi
mount_export
install_hotcache
mkdir -p /run/hcbench

if [ "$ROLE" = dst ]; then
	cp $job/authorized_keys /root/.ssh/authorized_keys
	chmod 600 /root/.ssh/authorized_keys
	mkdir -p /run/sshd
	ssh-keygen -A >/dev/null
	/usr/sbin/sshd || say "failed: sshd"
	say ready
	while :; do sleep 3600; done
fi

# The source from here on.
cp $job/id_ed25519 /root/.ssh/id_ed25519
chmod 600 /root/.ssh/id_ed25519
# One connection for every ssh to dst (hotcache migrate's too): no key exchange per command under emulation.
printf 'StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\nLogLevel ERROR\nControlMaster auto\nControlPath /run/ssh-%%C\nControlPersist 3600\n' >/root/.ssh/config
on_dst() { ssh -T -o BatchMode=yes "$DST" -- "$@"; }
i=0
until on_dst true; do
	i=$((i + 1))
	[ $i -lt 120 ] || { say "failed: ssh to $DST"; power_off; }
	sleep 1
done
out=$job/out
mkdir -p $out
{
	echo "kernel=$(uname -r)"
	echo "criu=$(criu --version | sed -n 's/^Version: //p')"
	echo "node=$(node --version)"
	echo "mount=$(grep ' /mnt/nfs ' /proc/mounts)"
} >$out/guest.txt

nowns() { date +%s%N; }
# Sleeps until the wall-clock instant $1 (ns since the epoch).
sleep_until() {
	s=$(awk -v t="$1" -v n="$(nowns)" 'BEGIN { x = (t - n) / 1e9; if (x > 0) printf "%.3f", x; else print 0 }')
	sleep "$s"
}
# The workload's file evicted from a client's cache (the rest stays: criu, Node and hotcache start warm,
# as on a host that runs them), and its resident pages counted after.
evict="dd if=/mnt/nfs/$FILE iflag=nocache count=0 status=none; fincore -n -o PAGES /mnt/nfs/$FILE"
sampler="node /opt/hotcache/dist/tools/bench/nfs-sampler.js --progress /run/hcbench/progress --units $UNITS --stop /run/hcbench/stop --ready /run/hcbench/ready"
wait_ready() { while [ ! -e /run/hcbench/ready ]; do sleep 0.1; done; }

n=0
for variant in $PLAN; do
	n=$((n + 1))
	dir=$out/run-$n
	mkdir -p "$dir"
	say "run $n $variant"
	cold_dst=$(on_dst "rm -f /run/hcbench/*; $evict")
	rm -f /run/hcbench/*
	cold_src=$(sh -c "$evict")
	# The source warm, the destination cold; the read that warms it is the link's cold sequential rate.
	w0=$(nowns)
	dd if="/mnt/nfs/$FILE" of=/dev/null bs=1M status=none
	w1=$(nowns)
	# The destination's progress file counts from zero (the restored workload goes on adding to it).
	on_dst "$sampler --counting --out /run/hcbench/samples.json </dev/null >/run/hcbench/sampler.log 2>&1 & while [ ! -e /run/hcbench/ready ]; do sleep 0.1; done"
	$sampler --out "$dir/src.json" </dev/null >"$dir/sampler.log" 2>&1 &
	sampler_pid=$!
	wait_ready
	# A pid far above what either client uses, so that it is free on the destination for the restore.
	echo $((30000 + n * 16)) >/proc/sys/kernel/ns_last_pid
	t0=$(nowns)
	# Its stdio on /dev/null: the restore reopens every file by path, and /job is not on the destination.
	setsid sh -c "$WORKLOAD" </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep_until $((t0 + MOVE_AT_S * 1000000000))
	asked=$(nowns)
	outcome=none
	if [ "$variant" != none ]; then
		hotcache migrate --pid "$pid" --to "ssh:$DST" --warm "$variant" --json >"$dir/migrate.json" 2>"$dir/migrate.err"
		outcome=$(sed -n 's/.*"outcome":"\([a-z-]*\)".*/\1/p' "$dir/migrate.json")
	fi
	sleep_until $((t0 + WINDOW_S * 1000000000 + 300000000))
	if [ "$outcome" = moved ]; then on_dst "kill -9 $pid"; else kill -9 "$pid"; fi
	touch /run/hcbench/stop
	on_dst "touch /run/hcbench/stop; i=0; while [ ! -e /run/hcbench/samples.json ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done; cat /run/hcbench/samples.json" >"$dir/dst.json"
	wait "$sampler_pid"
	end=$(nowns)
	printf '{"variant":"%s","pid":%s,"startNs":%s,"askedNs":%s,"endNs":%s,"warmNs":[%s,%s],"coldPages":[%s,%s],"outcome":"%s"}\n' \
		"$variant" "$pid" "$t0" "$asked" "$end" "$w0" "$w1" "${cold_src:-null}" "${cold_dst:-null}" "$outcome" >"$dir/run.json"
	say "done $n $variant $outcome"
done
say finished
power_off
