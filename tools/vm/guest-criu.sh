#!/bin/sh
# pid 1 of the Debian guest (guest-init.sh switched here; hotcache.ko is loaded), from the job disk at
# /job: real criu, with the plugin alone in /job/lib (criu loads every .so of --libdir) and the restore
# side of the checkout in /job/hotcache, on files on this ext4 disk. The reader reads A three times and
# B once, keeps C open unread and maps D. One boot, several steps, first in the LRU mode the kernel
# booted with (Debian's default), then in the other:
#  1. dumps of a fresh reader: the backend left to the plugin (kmod, the module is loaded), then
#     kpageflags and mincore forced;
#  2. in the first mode only, right after the plugin's own choice: three restores of that reader from
#     its image, each from a cold page cache (its files evicted), with the prefetcher started by the
#     plugin's init(RESTORE) alone, by the action script on criu's command line alone, and by both.
#     Each waits for the prefetcher's verdict, counts the files' resident pages (fincore) and whether
#     the reader counts on, then kills it. `node` is a wrapper that counts its starts: one prefetcher
#     per restore. Then one more dump with criu's file validation by size only.
# Prints "HOTCACHE-CRIU-DUMP {json}" and "HOTCACHE-CRIU-RESTORE {json}" per step, HOTCACHE-CRIU-DONE at
# the end; the host reads out/ (images, logs, records, state directories) from the disk image.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
job=/job
out=$job/out
script=$job/hotcache/hooks/action-script
lru_gen=/sys/kernel/mm/lru_gen/enabled
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir $out
echo "HOTCACHE-CRIU-VERSION $(criu --version | sed -n 's/^Version: //p')"
echo "HOTCACHE-CRIU-NODE $(node --version 2>&1)"
for f in A B C D; do dd if=/dev/urandom of=$job/$f bs=4096 count=1024 status=none; done

# The prefetcher's Node, counting its starts in the file HOTCACHE_LAUNCHES names.
cat >/tmp/node <<'EOF'
#!/bin/sh
echo "$$" >>"$HOTCACHE_LAUNCHES"
exec node "$@"
EOF
chmod 755 /tmp/node

# Seconds since the guest booted, for the step lines.
now() { cut -d' ' -f1 /proc/uptime; }
counter() { od -An -tu8 -N8 $job/counter | tr -d ' '; }
# Drops the reader's files from the page cache (the rest stays: criu and node need not start cold).
cold() {
	sync
	for f in A B C D; do dd if=$job/$f iflag=nocache count=0 status=none; done
}
# Resident pages of A, B, C and D, as JSON.
resident() {
	fincore -n -o PAGES,FILE $job/A $job/B $job/C $job/D | {
		sep=
		printf '{'
		while read -r pages file; do
			printf '%s"%s":%s' "$sep" "${file##*/}" "$pages"
			sep=,
		done
		printf '}'
	}
}

# A session of its own and no fd above 2 (the reader closes them): what criu wants of a dumped tree.
start_reader() {
	printf '\0\0\0\0\0\0\0\0' >$job/counter
	cold
	setsid $job/reader -a $job/A -b $job/B -c $job/C -d $job/D -n $job/counter -i 20 </dev/null >/dev/null 2>&1 &
	pid=$!
	waited=0
	while [ "$(counter)" = 0 ] && [ $waited -lt 600 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
}

# Kills the reader (dumped or restored) and waits until its pid is free for the next restore. A restored
# reader is not this shell's child but was adopted by it (pid 1): the shell reaps it while it waits for
# the commands it runs.
stop_reader() {
	kill -9 "$pid" 2>/dev/null
	i=0
	while [ -e /proc/$pid ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# $1: the image directory under out/; $2: the backend to force, or auto for the plugin's choice; then
# more options for criu.
dump() {
	name=$1 forced=
	[ "$2" = auto ] || forced=$2
	shift 2
	mkdir $out/$name
	timeout -s KILL 120 env ${forced:+HOTCACHE_BACKEND=$forced} criu dump -t "$pid" -D $out/$name --libdir $job/lib "$@" -v4 -o dump.log </dev/null >$out/$name/criu.out 2>&1
	status=$?
	echo "HOTCACHE-CRIU-DUMP {\"name\":\"$name\",\"backend\":\"${forced:-auto}\",\"options\":\"$*\",\"lruGen\":\"$(cat $lru_gen)\",\"dump\":$status,\"pid\":$pid,\"waited\":$waited,\"at\":$(now)}"
	stop_reader
}

# $1: who starts the prefetcher: plugin, action-script or both; $2: the image directory under out/.
# The reader's pid is still $pid.
restore() {
	starter=$1
	dir=$out/restore-$starter
	mkdir $dir
	launcher=
	case $starter in plugin | both) launcher=$script ;; esac
	set -- -D $out/$2
	case $starter in action-script | both) set -- "$@" --action-script $script ;; esac
	cold
	before=$(resident)
	started=$(now)
	timeout -s KILL 120 env ${launcher:+HOTCACHE_ACTION_SCRIPT=$launcher} HOTCACHE_NODE=/tmp/node HOTCACHE_LAUNCHES=$dir/launches \
		HOTCACHE_STATE_DIR=$dir/state HOTCACHE_RECORD=$dir/record.jsonl \
		criu restore -d --libdir $job/lib "$@" -v4 -o $dir/restore.log </dev/null >$dir/criu.out 2>&1
	status=$?
	restored=$(now)
	first=$(counter)
	# The prefetcher's verdict: a status line that no longer says "in progress", 120 s at most (Node took
	# up to 30 s to start under emulation on a busy host); none to wait for when no launcher claimed the
	# restore (the claim is made before the launch).
	deadline=$((${restored%.*} + 120))
	verdict=
	while [ -e $dir/state/restores/*/claimed ]; do
		for f in $dir/state/restores/*/status; do
			[ -e "$f" ] && read -r verdict <"$f"
		done
		case $verdict in '' | *'in progress'*) ;; *) break ;; esac
		t=$(now)
		[ ${t%.*} -lt $deadline ] || break
		sleep 0.1
	done
	decided=$(now)
	after=$(resident)
	sleep 0.3
	last=$(counter)
	running=false
	kill -0 "$pid" 2>/dev/null && running=true
	launches=$(cat $dir/launches 2>/dev/null | wc -l)
	starts=$(grep -c '"kind":"start"' $dir/record.jsonl 2>/dev/null)
	echo "HOTCACHE-CRIU-RESTORE {\"starter\":\"$starter\",\"lruGen\":\"$(cat $lru_gen)\",\"restore\":$status,\"pid\":$pid,\"running\":$running,\"counter\":[${first:-0},${last:-0}],\"cold\":$before,\"resident\":$after,\"launches\":$launches,\"starts\":${starts:-0},\"times\":[$started,$restored,$decided]}"
	stop_reader
}

# $1: the LRU's name for the image directories; restores after the plugin's own choice when $2 is set,
# and dumps once more with criu's file validation by size only (no read of each file's first page).
captures() {
	for backend in auto kpageflags mincore; do
		start_reader
		dump $1-$backend $backend
		if [ $backend = auto ] && [ -n "${2:-}" ]; then
			for who in plugin action-script both; do restore $who $1-$backend; done
			start_reader
			dump $1-filesize auto --file-validation filesize
		fi
	done
}

lru_name() { if [ "$(cat $lru_gen)" = 0x0000 ]; then echo classic; else echo mglru; fi; }

booted=$(lru_name)
captures $booted restores
if [ $booted = classic ]; then echo y >$lru_gen; else echo n >$lru_gen; fi
captures "$(lru_name)"
echo HOTCACHE-CRIU-DONE
sync
# This shell reads its script from /job, so /job stays busy: remount read-only to write everything back.
mount -o remount,ro $job || echo "HOTCACHE-CRIU-NOTE remounting $job read-only failed"
echo o >/proc/sysrq-trigger
sleep 10 # pid 1 must not exit (a kernel panic) before the power-off takes effect
