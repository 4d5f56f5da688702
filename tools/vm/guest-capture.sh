#!/bin/sh
# Run by guest-init.sh when the initramfs holds /hotcache-capture (criu-plugin/out/): the plugin's own
# capture code, kmod backend, against a live reader process. The reader holds R (read three times) and
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
