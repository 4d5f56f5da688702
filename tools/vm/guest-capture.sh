#!/bin/sh
# Run by guest-init.sh when the initramfs holds /hotcache-capture (criu-plugin/out/): the plugin's own
# capture code, kmod backend, against a live reader process; then the cgroup scope (below). The reader holds R (read three times) and
# W (read once) open on the ext4 disk; whether the capture succeeded is printed as "HOTCACHE-CAPTURE
# {json}", and the host reads the image from the disk and decodes it.
set -u
dd if=/dev/urandom of=/mnt/R bs=4096 count=1024 2>/dev/null
dd if=/dev/urandom of=/mnt/W bs=4096 count=1024 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
sh -c 'exec 3</mnt/R 4</mnt/W
	cat /mnt/R >/dev/null; cat /mnt/R >/dev/null; cat /mnt/R >/dev/null; cat /mnt/W >/dev/null
	: > /mnt/reader-ready
	exec sleep 600' </dev/null >/dev/null 2>&1 &
reader=$!
while [ ! -e /mnt/reader-ready ]; do sleep 0.1; done
mkdir -p /mnt/cap
if /hotcache-capture --backend kmod --out /mnt/cap --pid "$reader" 2>/mnt/cap/log; then
	echo 'HOTCACHE-CAPTURE {"ok":true}'
else
	echo "HOTCACHE-CAPTURE {\"ok\":false,\"exit\":$?}"
fi
sed 's/^/HOTCACHE-CAPTURE-LOG /' /mnt/cap/log
kill "$reader"

# The cgroup scope: a process alone in a memory cgroup of its own (cgroup2 was mounted by the test program)
# reads S three times and T once, closes them and sleeps; U is read by this shell, in the root cgroup.
# Captured with the module's listing (kmod) and with the walk (kpageflags, /proc/kpagecgroup); the host
# reads both images from the disk.
mkdir -p /sys/fs/cgroup/scope
for f in S T U; do dd if=/dev/urandom of=/mnt/$f bs=4096 count=256 2>/dev/null; done
sync
echo 3 > /proc/sys/vm/drop_caches
sh -c 'echo 0 > /sys/fs/cgroup/scope/cgroup.procs
	cat /mnt/S >/dev/null; cat /mnt/S >/dev/null; cat /mnt/S >/dev/null; cat /mnt/T >/dev/null
	: > /mnt/scope-ready
	exec sleep 600' </dev/null >/dev/null 2>&1 &
scoped=$!
cat /mnt/U >/dev/null
while [ ! -e /mnt/scope-ready ]; do sleep 0.1; done
for backend in kmod kpageflags; do
	mkdir -p "/mnt/cap-$backend"
	if HOTCACHE_VERBOSE=1 /hotcache-capture --backend "$backend" --out "/mnt/cap-$backend" --pid "$scoped" 2>"/mnt/cap-$backend/log"; then
		echo "HOTCACHE-SCOPE {\"backend\":\"$backend\",\"ok\":true}"
	else
		echo "HOTCACHE-SCOPE {\"backend\":\"$backend\",\"ok\":false,\"exit\":$?}"
	fi
	sed 's/^/HOTCACHE-SCOPE-LOG /' "/mnt/cap-$backend/log"
done
kill "$scoped"
