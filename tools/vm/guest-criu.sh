#!/bin/sh
# pid 1 of the Debian trixie guest (guest-init.sh switched here; hotcache.ko is loaded), from the job disk
# at /job. Real criu dumps the reader fixture with the plugin alone in /job/lib: the reader reads A three
# times and B once, keeps C open unread and maps D, all on this ext4 disk after their pages were dropped.
# Prints "HOTCACHE-CRIU {json}" with criu's exit status and the reader's pid; the host reads
# /job/img/hotcache.img and dump.log from the disk image afterwards.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
job=/job
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
for f in A B C D; do dd if=/dev/urandom of=$job/$f bs=4096 count=1024 status=none; done
printf '\0\0\0\0\0\0\0\0' > $job/counter
sync
echo 3 > /proc/sys/vm/drop_caches
# A session of its own and no fd above 2 (the reader closes them): what criu wants of a dumped tree.
setsid $job/reader -a $job/A -b $job/B -c $job/C -d $job/D -n $job/counter -i 20 </dev/null >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(od -An -tu8 -N8 $job/counter | tr -d ' ')" = 0 ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
mkdir $job/img
criu dump -t "$pid" -D $job/img --libdir $job/lib -v4 -o dump.log </dev/null >$job/criu.out 2>&1
status=$?
echo "HOTCACHE-CRIU {\"dump\":$status,\"pid\":$pid,\"waited\":$i}"
if kill -0 "$pid" 2>/dev/null; then
	kill -9 "$pid"
	wait "$pid"
fi
sync
# This shell reads its script from /job, so /job stays busy: remount read-only to write everything back.
mount -o remount,ro $job || echo "HOTCACHE-CRIU-NOTE remounting $job read-only failed"
echo o > /proc/sysrq-trigger
sleep 10 # pid 1 must not exit (a kernel panic) before the power-off takes effect
