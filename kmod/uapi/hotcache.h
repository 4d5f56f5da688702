/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/hotcache: report how hot the page-cache pages of a file are, or of
 * the files a memory cgroup brought into the page cache.
 *
 * The caller opens the file itself and passes the fd, so the module never
 * resolves a path. Results are ranges of page indexes with one class each,
 * sorted by index, never overlapping; non-resident pages are not reported.
 * A scan that fills the output buffer returns early with @next set to the
 * index to resume from, so huge files need no huge buffer.
 */
#ifndef _UAPI_LINUX_HOTCACHE_H
#define _UAPI_LINUX_HOTCACHE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Page classes; the same numbers as the Hotness enum of proto/hotcache.proto. */
#define HOTCACHE_CLASS_RESIDENT	1	/* cached, no sign of use */
#define HOTCACHE_CLASS_WARM	2	/* referenced, or refaulted (workingset) */
#define HOTCACHE_CLASS_HOT	3	/* active, or a high MGLRU access tier */

/* LRU flavour of the running kernel, reported by every scan. */
#define HOTCACHE_LRU_CLASSIC	1
#define HOTCACHE_LRU_MGLRU	2

/* Upper bound of @max_ranges in one call. */
#define HOTCACHE_MAX_RANGES	65536

struct hotcache_range {
	__u64 start;		/* first page index */
	__u64 count;		/* number of pages */
	__u32 class;		/* HOTCACHE_CLASS_* */
	__u32 pad;		/* zero */
};

struct hotcache_scan {
	__u32 fd;		/* in: a regular file the caller opened */
	__u32 flags;		/* in: must be 0 */
	__u64 start;		/* in: first page index to scan */
	__u64 end;		/* in: page index to stop before; 0 means EOF */
	__u64 ranges;		/* in: user pointer to struct hotcache_range[] */
	__u32 max_ranges;	/* in: capacity of @ranges, 1..HOTCACHE_MAX_RANGES */
	__u32 nr_ranges;	/* out: ranges written */
	__u64 next;		/* out: where to resume; >= end when done */
	__u32 lru;		/* out: HOTCACHE_LRU_* */
	__u32 reserved[3];	/* in: must be 0 */
};

/*
 * HOTCACHE_IOC_MEMCG_SCAN: the cached file pages charged to a memory cgroup
 * (or to one below it), file by file, for the files under the directories
 * given as @mounts: for each, its device, inode number, size, which of the
 * directories it is under, its path below that directory and its ranges,
 * classed as above. The walk belongs to the open file of /dev/hotcache it
 * was started on: HOTCACHE_MEMCG_START begins it, each call continues where
 * the last one stopped (a full buffer, or enough inodes looked at for one
 * call), until @done.
 */
#define HOTCACHE_MEMCG_START	1	/* @flags: begin a walk, ending any other */

/* Bounds of one call. */
#define HOTCACHE_MAX_MOUNTS	256
#define HOTCACHE_MAX_FILES	65536
#define HOTCACHE_MIN_PATH_BYTES	4096	/* PATH_MAX: room for any one path */
#define HOTCACHE_MAX_PATH_BYTES	(16 << 20)

#define HOTCACHE_FILE_MORE	1	/* the next call goes on with this file */

struct hotcache_memcg_file {
	__u64 dev;		/* st_dev, as stat(2) gives it */
	__u64 ino;		/* st_ino */
	__u64 size;		/* bytes */
	__u32 mount;		/* index in @mounts of the directory it is under */
	__u32 path;		/* offset in @paths of its path below that directory */
	__u32 first_range;	/* its ranges: @ranges[first_range..+nr_ranges) */
	__u32 nr_ranges;
	__u32 flags;		/* HOTCACHE_FILE_* */
	__u32 pad;		/* zero */
};

struct hotcache_memcg_scan {
	__u32 cgroup_fd;	/* in, START: a cgroup2 directory */
	__u32 flags;		/* in: HOTCACHE_MEMCG_START or 0 */
	__u64 mounts;		/* in, START: user pointer to __s32 fds[nr_mounts] */
	__u32 nr_mounts;	/* in, START: 1..HOTCACHE_MAX_MOUNTS directories */
	__u32 max_files;	/* in: capacity of @files, 1..HOTCACHE_MAX_FILES */
	__u64 files;		/* in: user pointer to struct hotcache_memcg_file[] */
	__u64 ranges;		/* in: user pointer to struct hotcache_range[] */
	__u32 max_ranges;	/* in: capacity of @ranges, 1..HOTCACHE_MAX_RANGES */
	__u32 path_bytes;	/* in: capacity of @paths, MIN..MAX_PATH_BYTES */
	__u64 paths;		/* in: user pointer to char[path_bytes] */
	__u32 nr_files;		/* out: files written */
	__u32 nr_ranges;	/* out: ranges written */
	__u32 done;		/* out: 1 when every file was looked at */
	__u32 lru;		/* out: HOTCACHE_LRU_* */
	__u32 reserved[4];	/* in: must be 0 */
};

#define HOTCACHE_IOC_MAGIC	0xC7
#define HOTCACHE_IOC_SCAN	_IOWR(HOTCACHE_IOC_MAGIC, 0x01, struct hotcache_scan)
#define HOTCACHE_IOC_MEMCG_SCAN	_IOWR(HOTCACHE_IOC_MAGIC, 0x02, struct hotcache_memcg_scan)

#endif /* _UAPI_LINUX_HOTCACHE_H */
