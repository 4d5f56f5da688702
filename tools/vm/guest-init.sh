#!/bin/busybox sh
# /init of the test initramfs (tools/vm/initramfs.ts). Loads the disk driver and hotcache.ko, sets
# MGLRU as the kernel command line asks (hotcache_mglru=y|n), runs the test program on the ext4 disk,
# then hotcache-capture when it is there (guest-capture.sh), and powers off. Lines starting with
# HOTCACHE- are read by the host.
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
	echo "$mode" > /sys/kernel/mm/lru_gen/enabled
	echo "HOTCACHE-VM mglru $(cat /sys/kernel/mm/lru_gen/enabled)"
else
	echo "HOTCACHE-VM mglru absent"
fi
if insmod /hotcache.ko && mount -t ext4 /dev/vda /mnt; then
	/hotcache_test /mnt
	echo "HOTCACHE-VM exit $?"
	[ -x /hotcache-capture ] && sh /guest-capture.sh
	umount /mnt
else
	echo "HOTCACHE-VM setup failed"
fi
poweroff -f
