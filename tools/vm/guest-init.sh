#!/bin/busybox sh
# /init of the test initramfs (tools/vm/initramfs.ts). Loads the disk driver (and the socket diag modules
# criu probes) and hotcache.ko, sets MGLRU as the kernel command line asks (hotcache_mglru=y|n; without
# it, the kernel's default stays), then either (hotcache_guest=criu) switches to the Debian root file
# system on /dev/vda with the job disk /dev/vdb at /job and runs /job/guest-criu.sh there
# (tools/vm/criu-job.ts; hotcache_job=NAME.sh runs /job/NAME.sh instead: tools/bench/nfs-vms.ts), or
# runs the test program on the ext4 disk /dev/vda, then hotcache-capture when it is there
# (guest-capture.sh), and powers off.
# Lines starting with HOTCACHE- are read by the host.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /mnt
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do
	insmod "/modules/$m.ko" || echo "HOTCACHE-VM insmod $m failed"
done
mode=$(sed -n 's/.*hotcache_mglru=\([yn]\).*/\1/p' /proc/cmdline)
if [ -e /sys/kernel/mm/lru_gen/enabled ]; then
	[ -n "$mode" ] && echo "$mode" > /sys/kernel/mm/lru_gen/enabled
	echo "HOTCACHE-VM mglru $(cat /sys/kernel/mm/lru_gen/enabled)"
else
	echo "HOTCACHE-VM mglru absent"
fi
if ! insmod /hotcache.ko; then
	echo "HOTCACHE-VM setup failed: insmod hotcache.ko"
elif grep -q 'hotcache_guest=criu' /proc/cmdline; then
	if mount -t ext4 -o ro /dev/vda /mnt && mount -t ext4 /dev/vdb /mnt/job; then
		ip link set lo up # criu's feature probe connects a TCP socket over loopback; trixie's minbase has no ip
		job=$(sed -n 's/.*hotcache_job=\([a-z-]*\.sh\).*/\1/p' /proc/cmdline)
		for fs in dev proc sys; do mount --move "/$fs" "/mnt/$fs"; done
		exec switch_root /mnt /bin/sh "/job/${job:-guest-criu.sh}"
	fi
	echo "HOTCACHE-VM setup failed: mounting the Debian root and the job disk"
elif mount -t ext4 /dev/vda /mnt; then
	/hotcache_test /mnt
	echo "HOTCACHE-VM exit $?"
	[ -x /hotcache-capture ] && sh /guest-capture.sh
	umount /mnt
else
	echo "HOTCACHE-VM setup failed: mounting the disk"
fi
poweroff -f
